# Maximum entropy / confidence penalty (Pereyra et al., ICLR 2017 workshop,
# https://arxiv.org/abs/1701.06548): plain ResNet-50 on ImageNet trained on
# CE - beta * H(p), beta 0.005: the per-sample entropy weight of the CIFAR
# recipe. Self-KD-Lib's formula (0.5 * mean over classes of p log p) would give
# 0.5 / 1000 here; the per-sample weight keeps the penalty's strength.
# Deviation: Self-KD-Lib has no ImageNet run of it; the shared MixSKD ImageNet
# schedule.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(
    type='ImageClassifier',
    head=dict(
        loss=dict(
            type='MaxEntropyLoss', entropy_weight=0.005, loss_weight=1.0)))
