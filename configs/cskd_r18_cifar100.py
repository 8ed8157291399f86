# CS-KD (Yun et al., CVPR 2020, https://arxiv.org/abs/2003.13964), CIFAR
# ResNet-18 on CIFAR-100: every image is followed by another image of its
# class (IntraClassSampler, num_partners=1; Self-KD-Lib's PairBatchSampler);
# CE on the anchors + KD_T (T = 4, weight 1) from the partner's prediction
# computed under no_grad, as released (methods/cs_kd.py, main.py
# --method CS-KD).
#
# Deviations from the released code:
# - Schedule: the shared MixSKD CIFAR schedule, 64 anchors (+ 64 partners)
#   per step and 205 epochs, instead of main.py's 128 (+ 128) and 200.
# - The partner is never the anchor itself (PairBatchSampler draws from the
#   whole class, itself included: 1 draw in 500 on CIFAR-100).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='CSKDClassifier',
             temperature=4.0,
             loss_weights=dict(ce=1.0, pair_kd=1.0))
# 64 anchors, each followed by its partner: 128 images per step.
train_dataloader = dict(
    batch_size=128,
    sampler=dict(type='IntraClassSampler', num_partners=1, shuffle=True))
auto_scale_lr = dict(base_batch_size=128)
