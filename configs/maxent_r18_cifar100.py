# Maximum entropy / confidence penalty (Pereyra et al., ICLR 2017 workshop,
# https://arxiv.org/abs/1701.06548): plain CIFAR ResNet-18 on CIFAR-100 trained
# on CE - beta * H(p) (mixskd_mm's MaxEntropyLoss, H the per-sample entropy).
# Self-KD-Lib main.py (Maximum_entropy) adds 0.5 * mean over batch and classes
# of p log p, i.e. beta = 0.5 / C = 0.005 for C = 100. Self-KD-Lib README:
# 76.50.
# Deviation shared by these baselines: the MixSKD CIFAR schedule (batch 64,
# 205 epochs) instead of Self-KD-Lib main.py's (batch 128, 200 epochs).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(
    type='ImageClassifier',
    head=dict(
        loss=dict(
            type='MaxEntropyLoss', entropy_weight=0.5 / 100, loss_weight=1.0)))
