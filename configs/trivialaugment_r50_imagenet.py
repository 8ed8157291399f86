# TrivialAugment (Mueller & Hutter, ICCV 2021,
# https://arxiv.org/abs/2103.10158):
# plain ResNet-50 on ImageNet with torchvision's TrivialAugmentWide after crop
# and flip; BGR -> RGB for the PIL ops and back.
# Deviation: Self-KD-Lib applies it to CIFAR only; the shared MixSKD ImageNet
# schedule.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='ImageClassifier')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='NumpyToPIL', to_rgb=True),
    dict(type='torchvision/TrivialAugmentWide', num_magnitude_bins=31),
    dict(type='PILToNumpy', to_bgr=True),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
