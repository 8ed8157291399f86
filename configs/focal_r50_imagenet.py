# Focal loss (Lin et al., ICCV 2017, https://arxiv.org/abs/1708.02002) as a
# classification baseline: plain ResNet-50 on ImageNet with the softmax focal
# loss of Self-KD-Lib's CIFAR baseline (gamma 2, no alpha).
# Deviation: Self-KD-Lib has no ImageNet focal-loss run; the shared MixSKD
# ImageNet schedule.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(
    type='ImageClassifier',
    head=dict(loss=dict(type='SoftmaxFocalLoss', gamma=2.0, loss_weight=1.0)))
