# PS-KD (Kim et al., ICCV 2021, https://arxiv.org/abs/2006.12000), ResNet-50
# on ImageNet: the CIFAR recipe's method (alpha_T = 0.8, soft-target CE
# towards the previous epoch's softmax) on the shared MixSKD ImageNet
# schedule. The method carries over unchanged (the paper reports ImageNet
# runs); only its store is large: 1281167 x 1000 predictions, kept in
# float16 (2.6 GB on every GPU, as every rank holds the whole store, and in
# every checkpoint) instead of float32 (5.1 GB).
#
# Deviations: Self-KD-Lib releases PS-KD for CIFAR only; the schedule is the
# shared ImageNet one; the float16 store.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='PSKDClassifier',
             alpha_T=0.8,
             num_samples=1281167,
             store_dtype='float16',
             loss_weights=dict(soft_ce=1.0))
