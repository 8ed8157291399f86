# ResNet-50 classifier for ImageNet, shared by every ImageNet recipe so that
# the methods are compared from the same kind of weights. A recipe sets
# `model.type` to its algorithm and adds only what makes its method.
#
# Initialisation: the MixSKD authors' (torchvision's) ResNet: Kaiming fan-out
# convolutions, no zero-initialised residual BN (README: mmpretrain's
# option), PyTorch's default Linear init in the head.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        init_cfg=dict(type='TorchDefault', layer='Linear'),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)),
    # ImageNet's statistics (those of mmpretrain's imagenet dataset base).
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
