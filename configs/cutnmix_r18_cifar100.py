# Cut^nMix online distillation (Shen et al. 2022,
# https://arxiv.org/abs/2206.12370), two CIFAR ResNet-18 peers on CIFAR-100.
# Every peer sees the same Cut^nMix batch (3 boxes of one partner, pasted
# area 1 - lambda, lambda ~ Beta(1, 1)); losses: mixed-label CE per peer,
# mutual logit KD (T = 3), attention-map feature mutual learning on the last
# stage (weight 100), KD from the detached mean of the peers' logits.
# Peer 0 (backbone/neck/head) is the deployable model.
#
# Deviations: no code or paper text is public (reference-methods.md
# section 3); the Cut^nMix construction, the loss forms and all weights are
# this project's design, documented in CutnMixOnlineDistiller. Schedule: the
# shared MixSKD CIFAR schedule.
# Initialisation: the MixSKD authors' (as in
# configs/mixskd_r18_cifar100.py), shared by every recipe so that the
# comparison starts from the same kind of weights.
_base_ = ['./_base_/cifar100_bs64_205e.py']

model = dict(
    type='CutnMixOnlineDistiller',
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
        num_classes=100,
        mean=[129.304, 124.070, 112.434],
        std=[68.170, 65.392, 70.418],
        to_rgb=False))
