# AutoAugment (Cubuk et al., CVPR 2019, https://arxiv.org/abs/1805.09501):
# plain ResNet-50 on ImageNet with mmpretrain's AutoAugment and its ImageNet
# policy after crop and flip, filled with the mean colour and bicubic, as
# mmpretrain's own imagenet_bs64_autoaug recipe.
# Deviation: Self-KD-Lib's ImageNet loader applies the CIFAR-10 policy to
# ImageNet as well (AutoAugmentPolicy.CIFAR10 in both branches); the ImageNet
# policy is the one learned for ImageNet. The shared MixSKD ImageNet schedule.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='ImageClassifier')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='AutoAugment',
        policies='imagenet',
        hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
