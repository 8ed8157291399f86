# CutMix baseline (Yun et al., ICCV 2019, https://arxiv.org/abs/1905.04899):
# plain ResNet-50 on ImageNet with mmpretrain's own batch augment, one box
# per batch with lambda ~ Beta(1, 1) corrected to the pasted area, every
# batch mixed (CutMix's ImageNet setting), soft-target CE.
#
# Deviations: the shared MixSKD ImageNet schedule (305 epochs, cosine) instead
# of CutMix's 300 epochs with step decay.
# Initialisation: the MixSKD authors' (as in
# configs/mixskd_r50_imagenet.py), shared by every recipe so that the
# comparison starts from the same kind of weights.
_base_ = ['./_base_/imagenet_bs16x8_305e.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet', depth=50, num_stages=4, out_indices=(3, ),
        style='pytorch',
        # As the authors' (torchvision's) ResNet: Kaiming fan-out convs and
        # no zero-initialised residual BN (README: mmpretrain's option).
        zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        # PyTorch's default Linear init, as the authors' heads.
        init_cfg=dict(type='TorchDefault', layer='Linear'),
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0, use_soft=True),
        topk=(1, 5)),
    # mmpretrain asserts that alpha is a float.
    train_cfg=dict(augments=dict(type='CutMix', alpha=1.0)))
