# DDGSD (Xu & Liu, AAAI 2019, https://doi.org/10.1609/aaai.v33i01.33015565),
# ResNet-50 on ImageNet: the CIFAR recipe's method on two RandomResizedCrop
# + flip views of every image (Self-KD-Lib's dataloader builds the same
# TwoCropsTransform for ImageNet), shared MixSKD ImageNet schedule. Each
# step runs 2 x 16 views per GPU, twice the compute of the baseline.
#
# Deviations: the loss weights are the released CIFAR ones (the release
# gives no ImageNet script); the schedule is the shared ImageNet one.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='DDGSDClassifier',
             data_preprocessor=dict(type='MultiViewClsDataPreprocessor'),
             temperature=4.0,
             mmd_per_channel=False,
             loss_weights=dict(ce=0.5, mutual_kd=1.0, mmd=5e-4))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView',
         num_views=2,
         transforms=[[
             dict(type='RandomResizedCrop', scale=224),
             dict(type='RandomFlip', prob=0.5, direction='horizontal'),
         ]]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
