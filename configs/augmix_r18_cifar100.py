# AugMix (Hendrycks et al., ICLR 2020, https://arxiv.org/abs/1912.02781):
# plain CIFAR ResNet-18 on CIFAR-100 with torchvision's AugMix after crop and
# flip, as Self-KD-Lib (dataloader/dataloaders.py) applies it: defaults,
# severity 3, width 3, random depth 1-3, alpha 1, all ops. Through mmpretrain's
# torchvision/ wrapper between NumpyToPIL and PILToNumpy (CIFAR100 loads RGB:
# no swap). As released, the augmented image alone is trained on CE (no
# Jensen-Shannon consistency term of the paper). Self-KD-Lib README: 76.22.
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
    dict(
        type='torchvision/AugMix',
        severity=3,
        mixture_width=3,
        chain_depth=-1,
        alpha=1.0,
        all_ops=True),
    dict(type='PILToNumpy', to_bgr=False),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
