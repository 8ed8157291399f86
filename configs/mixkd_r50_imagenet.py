# MIX-KD (Choi et al., WACV 2023, https://arxiv.org/abs/2211.03946):
# ResNet-50 student, frozen ResNet-101 teacher, ImageNet. Partial mixup
# (per-sample lambda ~ Beta(1, 1), 0.1 * batch samples mixed, rounded up or
# down at random so that 10 % are mixed on average); both networks read the
# mixed batch; loss 0.1 * soft CE + 0.9 * KL, both of std-standardised
# logits (reference-methods.md section 4).
#
# Teacher: e.g. configs/baseline_r50_imagenet.py with
#   --cfg-options model.backbone.depth=101
#   --work-dir work_dirs/baseline_r101_imagenet, last checkpoint copied to
# work_dirs/baseline_r101_imagenet/teacher.pth; or mmpretrain's model zoo
# `resnet101_8xb32_in1k` (same architecture and normalisation; URL in
# mmpretrain's configs/resnet/metafile.yml) as model.teacher.checkpoint
# (not tried here: no network).
#
# Deviations from the released code: the paper's experiments are CIFAR-100
# (RepDistiller setup) only; ImageNet, the schedule (shared MixSKD ImageNet
# schedule) and the pair are this project's. 10 % mixed on average
# (sample_with_replacement=True reproduces the released sampling).
_base_ = [
    './_base_/models/resnet50_imagenet_r101-teacher.py',
    './_base_/imagenet_bs16x8_305e.py'
]

model = dict(type='MixKDClassifier',
             loss_weights=dict(mix_ce=0.1, kd=0.9),
             data_preprocessor=dict(type='MixSKDDataPreprocessor',
                                    mix_mode='partial_mixup',
                                    alpha=1.0,
                                    mixed_fraction=0.1,
                                    sample_with_replacement=False))
