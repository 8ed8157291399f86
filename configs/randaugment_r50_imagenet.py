# RandAugment (Cubuk et al., CVPR workshops 2020,
# https://arxiv.org/abs/1909.13719): plain ResNet-50 on ImageNet with
# torchvision's RandAugment (N = 2, magnitude 9 of 31) before the crop, as
# Self-KD-Lib's ImageNet loader applies it; through mmpretrain's torchvision/
# wrapper, BGR -> RGB for the PIL ops and back.
# Deviation: no released ImageNet result; the shared MixSKD ImageNet schedule.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='ImageClassifier')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='NumpyToPIL', to_rgb=True),
    dict(
        type='torchvision/RandAugment',
        num_ops=2,
        magnitude=9,
        num_magnitude_bins=31),
    dict(type='PILToNumpy', to_bgr=True),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
