# Mixup baseline (Zhang et al., ICLR 2018, https://arxiv.org/abs/1710.09412):
# plain CIFAR ResNet-18 on CIFAR-100 with mmpretrain's own batch augment, one
# lambda ~ Beta(0.4, 0.4) per batch (alpha 0.4: Self-KD-Lib's mixup baseline
# and MixSKD's CIFAR alpha, reference-methods.md 1.8), every batch mixed,
# soft-target CE. The comparison row for MixSKD (Self-KD-Lib README: 78.68).
#
# Deviations: the shared MixSKD CIFAR schedule (batch 64, 205 epochs) instead
# of Self-KD-Lib's baseline one (batch 128, 200 epochs); mmpretrain's Mixup
# draws from NumPy's global generator.
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
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0, use_soft=True)),
    # mmpretrain asserts that alpha is a float.
    train_cfg=dict(augments=dict(type='Mixup', alpha=0.4)))
