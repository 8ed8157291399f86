# Focal loss (Lin et al., ICCV 2017, https://arxiv.org/abs/1708.02002) as a
# classification baseline: plain CIFAR ResNet-18 on CIFAR-100 with the softmax
# focal loss of Self-KD-Lib (methods/focal_loss.py): gamma 2, no alpha, batch
# mean. mmpretrain's FocalLoss is the sigmoid form (alpha 0.25), a different
# loss, hence mixskd_mm's SoftmaxFocalLoss. Self-KD-Lib README: 76.19.
# Deviation shared by these baselines: the MixSKD CIFAR schedule (batch 64,
# 205 epochs) instead of Self-KD-Lib main.py's (batch 128, 200 epochs).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(
    type='ImageClassifier',
    head=dict(loss=dict(type='SoftmaxFocalLoss', gamma=2.0, loss_weight=1.0)))
