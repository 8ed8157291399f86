# Manifold mixup (Verma et al., ICML 2019, https://arxiv.org/abs/1806.05236),
# ResNet-50 on ImageNet: the CIFAR recipe's method (mix at a uniformly drawn
# stage input: after the stem and max-pool, or after layer1-3; lam ~
# Beta(2, 2)) on the shared MixSKD ImageNet schedule. The design carries
# over (mmpretrain's ResNet has the same four residual stages).
#
# Deviations: Self-KD-Lib releases it for CIFAR only and alpha = 2 is its
# CIFAR value, untuned for ImageNet; the schedule is the shared one.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='ManifoldMixupClassifier',
             alpha=2.0,
             mix_points=['stem', 'layer1', 'layer2', 'layer3'],
             loss_weights=dict(mix_ce=1.0))
