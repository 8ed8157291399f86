# Classic KD (Hinton et al. 2015, https://arxiv.org/abs/1503.02531): CIFAR
# ResNet-18 student, frozen CIFAR ResNet-50 teacher, CIFAR-100, on the
# original images. Loss 0.1 * CE + 0.9 * T^2 KL(T = 4): RepDistiller's KD
# defaults, the code base MIX-KD builds on (reference-methods.md section 4).
# The baseline of configs/mixkd_r18_cifar100.py, with the same teacher
# (see there for how to train it or where to get one).
#
# Deviations: schedule is the shared MixSKD CIFAR schedule instead of
# RepDistiller's (240 epochs, lr 0.05, x0.1 at 150/180/210).
# Initialisation: the MixSKD authors' (as in
# configs/mixskd_r18_cifar100.py), shared by every recipe so that the
# comparison starts from the same kind of weights.
_base_ = ['./_base_/cifar100_bs64_205e.py']

model = dict(
    type='KDClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
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
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    teacher=dict(
        config=dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet_CIFAR',
                depth=50,
                num_stages=4,
                out_indices=(3, ),
                style='pytorch'),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=100, in_channels=2048)),
        checkpoint='work_dirs/baseline_r50_cifar100/teacher.pth'),
    temperature=4.0,
    loss_weights=dict(ce=0.1, kd=0.9),
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=100,
        mean=[129.304, 124.070, 112.434],
        std=[68.170, 65.392, 70.418],
        to_rgb=False))
