# MIX-KD (Choi et al., WACV 2023, https://arxiv.org/abs/2211.03946): CIFAR
# ResNet-18 student, frozen CIFAR ResNet-50 teacher, CIFAR-100. Partial mixup
# (per-sample lambda ~ Beta(1, 1), 0.1 * batch samples mixed, rounded up or
# down at random so that 10 % are mixed on average); both networks read the
# mixed batch; loss 0.1 * soft CE(std-standardised student logits, mixed
# one-hot) + 0.9 * KL of std-standardised logits (no temperature), as the
# released MIXSTDLoss (reference-methods.md section 4).
#
# Teacher: train it first with the same schedule and normalisation, e.g.
#   python tools/train.py configs/baseline_r18_cifar100.py \
#     --work-dir work_dirs/baseline_r50_cifar100 --cfg-options \
#     model.backbone.depth=50 model.head.in_channels=2048
#   cp work_dirs/baseline_r50_cifar100/epoch_205.pth \
#     work_dirs/baseline_r50_cifar100/teacher.pth
# or point model.teacher.checkpoint elsewhere. mmpretrain's model zoo
# `resnet50_8xb16_cifar100` (same architecture and normalisation) should
# load as is (not tried here: no network).
#
# Deviations from the released code:
# - 10 % of the samples are mixed (6 or 7 of 64, 6.4 on average); the
#   released sampling (indices reset with replacement, about 41 % mixed for
#   a batch of 64) is model.data_preprocessor.sample_with_replacement=True.
# - Each image is mixed with a shuffle of the batch instead of two
#   independent permutations (the same pairs in distribution).
# - Schedule: the shared MixSKD CIFAR schedule instead of RepDistiller's
#   240 epochs, lr 0.05, x0.1 at 150/180/210; teacher/student pair
#   ResNet-50 -> ResNet-18 instead of the paper's RN20..RN110 pairs.
_base_ = [
    './_base_/models/resnet18_cifar_r50-teacher.py',
    './_base_/cifar100_bs64_205e.py'
]

model = dict(type='MixKDClassifier',
             loss_weights=dict(mix_ce=0.1, kd=0.9),
             data_preprocessor=dict(type='MixSKDDataPreprocessor',
                                    mix_mode='partial_mixup',
                                    alpha=1.0,
                                    mixed_fraction=0.1,
                                    sample_with_replacement=False))
