# Tf-KD-reg (Yuan et al., CVPR 2020, https://arxiv.org/abs/1909.11723),
# ResNet-50 on ImageNet: CE + the virtual teacher (0.9 on the correct class,
# 0.1 / 999 on each other) at T = 20, divided by T, weight 1.
#
# Deviations from the released code: Self-KD-Lib has no ImageNet recipe for
# it; these are its CIFAR-100 values (tune them if needed) with the shared
# MixSKD ImageNet schedule (8 x 16 images, 305 epochs).
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='TfKDRegClassifier',
             correct_prob=0.9,
             temperature=20.0,
             loss_weights=dict(ce=1.0, tfkd=1.0))
