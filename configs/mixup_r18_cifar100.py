# Mixup baseline (Zhang et al., ICLR 2018, https://arxiv.org/abs/1710.09412):
# plain CIFAR ResNet-18 on CIFAR-100 with mmpretrain's own batch augment, one
# lambda ~ Beta(0.4, 0.4) per batch (alpha 0.4: Self-KD-Lib's mixup baseline
# and MixSKD's CIFAR alpha, reference-methods.md 1.8), every batch mixed,
# soft-target CE. The comparison row for MixSKD (Self-KD-Lib README: 78.68).
#
# Deviations: the shared MixSKD CIFAR schedule (batch 64, 205 epochs) instead
# of Self-KD-Lib's baseline one (batch 128, 200 epochs); mmpretrain's Mixup
# draws from NumPy's global generator.
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(
    type='ImageClassifier',
    head=dict(loss=dict(use_soft=True)),
    # mmpretrain asserts that alpha is a float.
    train_cfg=dict(augments=dict(type='Mixup', alpha=0.4)))
