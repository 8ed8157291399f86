# Label smoothing (Szegedy et al., CVPR 2016,
# https://arxiv.org/abs/1512.00567):
# plain CIFAR ResNet-18 on CIFAR-100, CE on smoothed labels, mmpretrain's
# LabelSmoothLoss. Self-KD-Lib (methods/label_smooth.py) gives the true class
# 1 - eps and every other class eps / (C - 1), eps = 0.1; mmpretrain's
# 'original' mode gives (1 - eps') one-hot + eps' / C, which is the released
# target for eps' = eps * C / (C - 1). Self-KD-Lib README: 78.72.
# Deviation shared by these baselines: the MixSKD CIFAR schedule (batch 64,
# 205 epochs) instead of Self-KD-Lib main.py's (batch 128, 200 epochs).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(
    type='ImageClassifier',
    head=dict(
        loss=dict(
            type='LabelSmoothLoss',
            label_smooth_val=0.1 * 100 / 99,
            mode='original',
            loss_weight=1.0)))
