# Cut^nMix online distillation (Shen et al. 2022,
# https://arxiv.org/abs/2206.12370), two ResNet-50 peers on ImageNet: same
# design as configs/cutnmix_r18_cifar100.py (3 boxes, lambda ~ Beta(1, 1),
# T = 3, attention feature mutual learning, self-ensemble teacher). Peer 0 is
# the deployable model.
#
# Deviations: the paper evaluates only CIFAR-10/100 and nothing of it is
# public beyond the abstract (reference-methods.md section 3); everything
# here is this project's design. Schedule: the shared MixSKD ImageNet
# schedule; two peers double the training compute and memory.
# Initialisation: the MixSKD authors' (as in
# configs/mixskd_r50_imagenet.py), shared by every recipe so that the
# comparison starts from the same kind of weights.
_base_ = ['./_base_/imagenet_bs16x8_305e.py']

model = dict(
    type='CutnMixOnlineDistiller',
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
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
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)),
    num_peers=2,
    temperature=3.0,
    feat_mode='attention',
    loss_weights=dict(
        mix_ce=1.0, mutual_kd=1.0, feat_mutual=100.0, ensemble_kd=1.0),
    data_preprocessor=dict(
        type='MixSKDDataPreprocessor',
        mix_mode='cutnmix',
        alpha=1.0,
        num_patches=3,
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
