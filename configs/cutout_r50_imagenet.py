# Cutout (DeVries & Taylor, arXiv 2017, https://arxiv.org/abs/1708.04552):
# plain ResNet-50 on ImageNet, one square cut out of every training crop,
# filled with the mean colour (BGR, the order LoadImageFromFile gives).
# Deviation: no released ImageNet setting exists (Self-KD-Lib applies Cutout to
# CIFAR only): the square is 56 px, the CIFAR recipe's quarter of the side.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='ImageClassifier')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='Cutout', shape=56, prob=1.0, pad_val=(104, 116, 124)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
