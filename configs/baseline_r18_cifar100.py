# Plain CIFAR ResNet-18 on CIFAR-100 with the MixSKD CIFAR schedule.
# Initialisation: the MixSKD authors' (as in
# configs/mixskd_r18_cifar100.py), shared by every recipe so that the
# comparison starts from the same kind of weights.
_base_ = ['./_base_/cifar100_bs64_205e.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR', depth=18, num_stages=4, out_indices=(3, ),
        style='pytorch',
        # The authors' CIFAR ResNet: PyTorch's default initialisation and
        # no zero-initialised residual BN (README: how to get mmpretrain's).
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
        # PyTorch's default Linear init, as the authors' heads.
        init_cfg=dict(type='TorchDefault', layer='Linear'),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
