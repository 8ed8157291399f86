# Random Erasing (Zhong et al., AAAI 2020, https://arxiv.org/abs/1708.04896):
# plain ResNet-50 on ImageNet, mmpretrain's RandomErasing after crop and flip
# with the CIFAR recipe's settings (probability 0.5, area 2%-40%, aspect ratio
# in [0.3, 1 / 0.3]), filled with the mean colour (BGR).
# Deviation: Self-KD-Lib applies Random Erasing to CIFAR only; the shared
# MixSKD ImageNet schedule.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='ImageClassifier')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        min_area_ratio=0.02,
        max_area_ratio=0.4,
        aspect_range=(0.3, 1 / 0.3),
        mode='const',
        fill_color=(104, 116, 124)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
