# BAKE (Ge et al., https://arxiv.org/abs/2104.13298), CIFAR ResNet-18 on
# CIFAR-100: batches of groups of one anchor and M = 3 other images of its
# class (IntraClassSampler, num_partners=3; Self-KD-Lib's
# IdentityBatchSampler); CE on the whole batch + KD_T (T = 4, weight 1) to
# the predictions propagated over the batch's feature affinities with
# omega = 0.5, as released (methods/bake.py, main.py --method BAKE).
#
# Deviations from the released code:
# - Schedule: the shared MixSKD CIFAR schedule, 64 anchors (+ 192 partners)
#   per step and 205 epochs, instead of main.py's 128 (+ 384) and 200.
# - Soft targets: BAKE's p_hat (yxgeee/BAKE KDLoss); Self-KD-Lib's DistillKL
#   applies softmax(. / T) to p_hat once more, a nearly uniform target. Set
#   model.resoftmax_targets=True to reproduce Self-KD-Lib's figure.
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='BAKEClassifier',
             omega=0.5,
             temperature=4.0,
             resoftmax_targets=False,
             loss_weights=dict(ce=1.0, ensemble_kd=1.0))
# 64 groups of M + 1 = 4 images of one class: 256 images per step.
train_dataloader = dict(
    batch_size=256,
    sampler=dict(type='IntraClassSampler', num_partners=3, shuffle=True))
auto_scale_lr = dict(base_batch_size=256)
