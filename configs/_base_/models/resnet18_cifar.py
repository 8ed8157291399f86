# CIFAR ResNet-18 classifier for CIFAR-100, shared by every CIFAR recipe so
# that the methods are compared from the same kind of weights. A recipe sets
# `model.type` to its algorithm and adds only what makes its method; the
# algorithms take backbone, neck, head and data_preprocessor as they are.
#
# Initialisation: the MixSKD authors' CIFAR ResNet (Self-KD-Lib): PyTorch's
# default for every convolution and linear layer and no zero-initialised
# residual BN (README: how to get mmpretrain's instead).
# Deviation: mmpretrain's ResNet_CIFAR applies a ReLU after the stem BN; the
# authors' CIFAR ResNet does not.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        zero_init_residual=False,
        init_cfg=[
            dict(type='TorchDefault', layer='Conv2d'),
            dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
        ]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        init_cfg=dict(type='TorchDefault', layer='Linear'),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    # CIFAR-100's statistics (those of mmpretrain's cifar100 dataset base).
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=100,
        mean=[129.304, 124.070, 112.434],
        std=[68.170, 65.392, 70.418],
        to_rgb=False))
