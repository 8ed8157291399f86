# BYOT (Zhang et al., ICCV 2019, https://arxiv.org/abs/1905.08094), ResNet-50
# on ImageNet: the CIFAR design of configs/byot_r18_cifar100.py on the
# shared ResNet-50 (Self-KD-Lib's models/resnet.py builds the same branches
# on Bottleneck ResNets, CIFAR_ResNet50_byot): branches after stages 2 and 3
# copying the later stages one Bottleneck each (2048-channel 7x7 outputs),
# own linear heads; CE on all heads + KD_T (T = 4) + 0.05 * feature hints.
#
# Deviations: the shared MixSKD ImageNet schedule; the weights and T are the
# released CIFAR-100 ones (Self-KD-Lib gives no ImageNet BYOT run).
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='BYOTClassifier',
             backbone=dict(out_indices=(0, 1, 2, 3)),
             branch_stages=(1, 2),
             branch_blocks=((1, 1), (1, )),
             temperature=4.0,
             loss_weights=dict(ce=1.0, kd=1.0, hint=0.05))
