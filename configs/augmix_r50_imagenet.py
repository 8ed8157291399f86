# AugMix (Hendrycks et al., ICLR 2020, https://arxiv.org/abs/1912.02781):
# plain ResNet-50 on ImageNet with torchvision's AugMix (defaults) after crop
# and flip, CE on the augmented image (no Jensen-Shannon term, as in the CIFAR
# recipe); BGR -> RGB for the PIL ops and back.
# Deviation: Self-KD-Lib applies AugMix to CIFAR only; the shared MixSKD
# ImageNet schedule.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='ImageClassifier')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='NumpyToPIL', to_rgb=True),
    dict(
        type='torchvision/AugMix',
        severity=3,
        mixture_width=3,
        chain_depth=-1,
        alpha=1.0,
        all_ops=True),
    dict(type='PILToNumpy', to_bgr=True),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
