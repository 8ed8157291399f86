# CutMix baseline (Yun et al., ICCV 2019, https://arxiv.org/abs/1905.04899):
# plain ResNet-50 on ImageNet with mmpretrain's own batch augment, one box
# per batch with lambda ~ Beta(1, 1) corrected to the pasted area, every
# batch mixed (CutMix's ImageNet setting), soft-target CE.
#
# Deviations: the shared MixSKD ImageNet schedule (305 epochs, cosine) instead
# of CutMix's 300 epochs with step decay.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(
    type='ImageClassifier',
    head=dict(loss=dict(use_soft=True)),
    # mmpretrain asserts that alpha is a float.
    train_cfg=dict(augments=dict(type='CutMix', alpha=1.0)))
