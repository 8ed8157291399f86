# MixSKD, ResNet-50, ImageNet: the authors' released recipe
# (winycg/Self-KD-Lib scripts/main_mixskd_imagenet.sh; reference-methods.md
# sections 1.4, 1.5, 1.8). Full-depth auxiliary branches, concatenation
# self-teacher, mixup alpha 0.2 once per batch, T = 3, every loss weight 1;
# 5 warm-up epochs (per iteration) then cosine set once per epoch, seed 0
# (configs/_base_/); the authors' (torchvision's) initialisation: Kaiming
# fan-out convolutions in the backbone and branches, no zero-initialised
# residual BN, PyTorch's default Linear init in every head and PyTorch's
# default for the self-teacher's 1x1 convolution.
# 8 GPUs:  tools/dist_train.sh configs/mixskd_r50_imagenet.py 8
# Then:    tools/export_backbone.py \
#              work_dirs/mixskd_r50_imagenet/epoch_305.pth \
#              work_dirs/mixskd_r50_imagenet/backbone.pth
_base_ = ['./_base_/imagenet_bs16x8_305e.py']

model = dict(
    type='MixSKDClassifier',
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
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
    self_teacher=dict(type='SelfTeacherNeck', fusion='concat'),
    teacher_inputs='branch_outputs',
    branch_depth='full',
    temperature=3.0,
    loss_weights=dict(
        ce=1.0, mix_ce=1.0, teacher_mix_ce=1.0, mutual_kd=1.0, teacher_kd=1.0,
        feat=1.0),
    adversarial=None,  # row 7 of the objective; see MixSKDClassifier
    data_preprocessor=dict(
        type='MixSKDDataPreprocessor',
        mix_mode='mixup',
        # Faster convolutions (CPU oneDNN, tensor-core GPUs); same values.
        channels_last=True,
        alpha=0.2,
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
