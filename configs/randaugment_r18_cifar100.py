# RandAugment (Cubuk et al., CVPR workshops 2020,
# https://arxiv.org/abs/1909.13719): plain CIFAR ResNet-18 on CIFAR-100 with
# torchvision's RandAugment as Self-KD-Lib (dataloader/dataloaders.py) applies
# it: defaults N = 2 ops, magnitude 9 of 31 bins, before the crop. Run through
# mmpretrain's torchvision/ wrapper between NumpyToPIL and PILToNumpy; CIFAR100
# loads RGB, so no channel swap. mmpretrain's own RandAugment presets are
# timm's op set and magnitudes, not the released one. Self-KD-Lib README:
# 76.86.
# Deviation shared by these baselines: the MixSKD CIFAR schedule (batch 64,
# 205 epochs) instead of Self-KD-Lib main.py's (batch 128, 200 epochs).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='ImageClassifier')
train_pipeline = [
    dict(type='NumpyToPIL', to_rgb=False),
    dict(
        type='torchvision/RandAugment',
        num_ops=2,
        magnitude=9,
        num_magnitude_bins=31),
    dict(type='PILToNumpy', to_bgr=False),
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
