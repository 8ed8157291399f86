# CutMix baseline (Yun et al., ICCV 2019, https://arxiv.org/abs/1905.04899):
# plain CIFAR ResNet-18 on CIFAR-100 with mmpretrain's own batch augment, one
# box per batch with lambda ~ Beta(1, 1) corrected to the pasted area (alpha
# 1.0: Self-KD-Lib's CutMix baseline, reference-methods.md 1.8), every batch
# mixed, soft-target CE. The comparison row for MixSKD (Self-KD-Lib README:
# 80.17).
#
# Deviations: the shared MixSKD CIFAR schedule (batch 64, 205 epochs) instead
# of Self-KD-Lib's baseline one (batch 128, 200 epochs); every batch is mixed
# (no CutMix probability); mmpretrain's CutMix draws from NumPy's global
# generator.
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(
    type='ImageClassifier',
    head=dict(loss=dict(use_soft=True)),
    # mmpretrain asserts that alpha is a float.
    train_cfg=dict(augments=dict(type='CutMix', alpha=1.0)))
