# Classic KD (Hinton et al. 2015, https://arxiv.org/abs/1503.02531):
# ResNet-50 student, frozen ResNet-101 teacher, ImageNet, original images.
# Loss 0.1 * CE + 0.9 * T^2 KL(T = 4) (RepDistiller's KD defaults, as in
# configs/kd_r18_cifar100.py). The baseline of configs/mixkd_r50_imagenet.py,
# with the same teacher (see there).
#
# Deviations: RepDistiller's weights are CIFAR ones; mmrazor's ImageNet KD
# recipe (kd_logits_resnet34_resnet18_8xb32_in1k) uses CE 1, KD 5, T 1:
#   --cfg-options model.loss_weights.ce=1 model.loss_weights.kd=5
#     model.temperature=1
# Schedule: the shared MixSKD ImageNet schedule.
# Initialisation: the MixSKD authors' (as in
# configs/mixskd_r50_imagenet.py), shared by every recipe so that the
# comparison starts from the same kind of weights.
_base_ = ['./_base_/imagenet_bs16x8_305e.py']

model = dict(
    type='KDClassifier',
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
    temperature=4.0,
    loss_weights=dict(ce=0.1, kd=0.9),
    data_preprocessor=dict(
        type='ClsDataPreprocessor',
        num_classes=1000,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True))
