# FRSKD (Ji et al., CVPR 2021, https://arxiv.org/abs/2103.08273), CIFAR
# ResNet-18 on CIFAR-100: BiFPNc self-teacher (width 2, one fusion layer)
# over the four stages with its own linear head; losses CE + self-teacher CE
# + 2 * KD_T (T = 4) + 100 * sum of per-level AT, as released (MingiJi/FRSKD
# README; reference-methods.md section 2). Trains on the originals.
#
# Deviations from the released code:
# - Schedule: the shared MixSKD CIFAR schedule (batch 64, 205 epochs, SGD
#   lr 0.1 Nesterov, wd 5e-4, 5 warm-up epochs) instead of FRSKD's 200
#   epochs, batch 128, wd 1e-4, x0.1 at 100/150: every CIFAR recipe here
#   shares one schedule.
# - Not implemented: the `--aux sla` option (rotation label augmentation).
# Same as released: the backbone. FRSKD's `cifarresnet18` moves each block's
# ReLU to the next block's input, which computes exactly mmpretrain's
# post-activation ResNet_CIFAR-18 (same outputs with the same weights).
# Mixup / CutMix variant (FRSKD `--aug mixup|cutmix`):
#   --cfg-options model.train_on=mixed \
#     model.data_preprocessor.type=MixSKDDataPreprocessor \
#     model.data_preprocessor.mix_mode=mixup model.data_preprocessor.alpha=0.2
#   (or mix_mode=cutmix alpha=1.0); the CE terms are then logged as
#   loss_mix_ce and loss_teacher_mix_ce (still weighted by ce, teacher_ce).
_base_ = [
    './_base_/models/resnet18_cifar.py', './_base_/cifar100_bs64_205e.py'
]

model = dict(type='FRSKDClassifier',
             backbone=dict(out_indices=(0, 1, 2, 3)),
             self_teacher=dict(type='FRSKDBiFPN', width=2, depth=2),
             train_on='original',
             temperature=4.0,
             loss_weights=dict(ce=1.0, teacher_ce=1.0, kd=2.0, at=100.0))
