# MIX-KD (Choi et al., WACV 2023, https://arxiv.org/abs/2211.03946):
# ResNet-50 student, frozen ResNet-101 teacher, ImageNet. Partial mixup
# (per-sample lambda ~ Beta(1, 1), 0.1 * batch samples mixed, rounded up or
# down at random so that 10 % are mixed on average); both networks read the
# mixed batch; loss 0.1 * soft CE + 0.9 * KL, both of std-standardised
# logits (reference-methods.md section 4).
#
# Teacher: e.g. configs/baseline_r50_imagenet.py with
#   --cfg-options model.backbone.depth=101
#   --work-dir work_dirs/baseline_r101_imagenet, last checkpoint copied to
# work_dirs/baseline_r101_imagenet/teacher.pth; or mmpretrain's model zoo
# `resnet101_8xb32_in1k` (same architecture and normalisation; URL in
# mmpretrain's configs/resnet/metafile.yml) as model.teacher.checkpoint
# (not tried here: no network).
#
# Deviations from the released code: the paper's experiments are CIFAR-100
# (RepDistiller setup) only; ImageNet, the schedule (shared MixSKD ImageNet
# schedule) and the pair are this project's. 10 % mixed on average
# (sample_with_replacement=True reproduces the released sampling).
# Initialisation: the MixSKD authors' (as in
# configs/mixskd_r50_imagenet.py), shared by every recipe so that the
# comparison starts from the same kind of weights.
_base_ = ['./_base_/imagenet_bs16x8_305e.py']

model = dict(
    type='MixKDClassifier',
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
    teacher=dict(
        config=dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet',
                depth=101,
                num_stages=4,
                out_indices=(3, ),
                style='pytorch'),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=1000, in_channels=2048)),
        checkpoint='work_dirs/baseline_r101_imagenet/teacher.pth'),
    loss_weights=dict(mix_ce=0.1, kd=0.9),
    data_preprocessor=dict(
        type='MixSKDDataPreprocessor',
        mix_mode='partial_mixup',
        alpha=1.0,
        mixed_fraction=0.1,
        sample_with_replacement=False,
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
