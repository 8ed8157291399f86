# CS-KD (Yun et al., CVPR 2020, https://arxiv.org/abs/2003.13964), ResNet-50
# on ImageNet: same-class pairs (IntraClassSampler, num_partners=1), CE on
# the anchors + KD_T (T = 4, weight 1) from the partner's no-grad prediction.
#
# Deviations from the released code: neither Self-KD-Lib nor alinlab/cs-kd
# ships an ImageNet recipe; these are the CIFAR-100 values (tune them if
# needed) with the shared MixSKD ImageNet schedule: 16 anchors (+ 16
# partners) per GPU, 8 GPUs, 305 epochs.
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='CSKDClassifier',
             temperature=4.0,
             loss_weights=dict(ce=1.0, pair_kd=1.0))
train_dataloader = dict(
    batch_size=32,
    sampler=dict(type='IntraClassSampler', num_partners=1, shuffle=True))
auto_scale_lr = dict(base_batch_size=256)
