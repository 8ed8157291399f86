# Mixup baseline (Zhang et al., ICLR 2018, https://arxiv.org/abs/1710.09412):
# plain ResNet-50 on ImageNet with mmpretrain's own batch augment, one
# lambda ~ Beta(0.2, 0.2) per batch (MixSKD's ImageNet alpha,
# reference-methods.md 1.8), every batch mixed, soft-target CE. The mixup
# comparison row for MixSKD with the same schedule.
#
# Deviations: no released mixup ImageNet recipe or log exists for MixSKD
# (reference-methods.md section 6); schedule: the shared MixSKD ImageNet one.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(
    type='ImageClassifier',
    head=dict(loss=dict(use_soft=True)),
    # mmpretrain asserts that alpha is a float.
    train_cfg=dict(augments=dict(type='Mixup', alpha=0.2)))
