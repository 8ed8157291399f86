# Label smoothing (Szegedy et al., CVPR 2016,
# https://arxiv.org/abs/1512.00567):
# plain ResNet-50 on ImageNet, mmpretrain's LabelSmoothLoss with the
# Self-KD-Lib CIFAR target (true class 0.9, every other 0.1 / (C - 1)), i.e.
# mmpretrain's 'original' mode with eps' = 0.1 * C / (C - 1).
# Deviation: Self-KD-Lib has no ImageNet label-smoothing run; the shared
# MixSKD ImageNet schedule.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(
    type='ImageClassifier',
    head=dict(
        loss=dict(
            type='LabelSmoothLoss',
            label_smooth_val=0.1 * 1000 / 999,
            mode='original',
            loss_weight=1.0)))
