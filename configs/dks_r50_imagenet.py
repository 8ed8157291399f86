# DKS (Sun et al., CVPR 2019, https://arxiv.org/abs/1906.00675), ResNet-50
# on ImageNet: the CIFAR design of configs/dks_r18_cifar100.py on the shared
# ResNet-50 (Self-KD-Lib's models/resnet.py builds the same branches on
# Bottleneck ResNets, CIFAR_ResNet50_dks): branch after stage 2 (stage 3 copy
# with one Bottleneck, stage 4 copy with two), branch after stage 3 (stage 4
# copy with two); CE on all heads + pairwise KD_T (T = 4).
#
# Deviations: the shared MixSKD ImageNet schedule; the weights and T are the
# released CIFAR-100 ones (Self-KD-Lib gives no ImageNet DKS run).
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='DKSClassifier',
             backbone=dict(out_indices=(0, 1, 2, 3)),
             branch_stages=(1, 2),
             branch_blocks=((1, 2), (2, )),
             temperature=4.0,
             loss_weights=dict(ce=1.0, synergy_kd=1.0))
