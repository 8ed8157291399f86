# TrivialAugment (Mueller & Hutter, ICCV 2021,
# https://arxiv.org/abs/2103.10158):
# plain CIFAR ResNet-18 on CIFAR-100 with torchvision's TrivialAugmentWide
# (one op, uniform magnitude of 31 bins) after crop and flip, where
# Self-KD-Lib's loader puts it; through mmpretrain's torchvision/ wrapper
# (CIFAR100 loads RGB: no swap). Self-KD-Lib README: 76.03.
# Caveat on that figure: scripts/main_cifar.sh passes --data-aug trivalaug but
# the loader tests for 'trivialaug', so the released command trains without
# TrivialAugment (the plain baseline).
# Deviation shared by these baselines: the MixSKD CIFAR schedule (batch 64,
# 205 epochs) instead of Self-KD-Lib main.py's (batch 128, 200 epochs).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='ImageClassifier')
train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='NumpyToPIL', to_rgb=False),
    dict(type='torchvision/TrivialAugmentWide', num_magnitude_bins=31),
    dict(type='PILToNumpy', to_bgr=False),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
