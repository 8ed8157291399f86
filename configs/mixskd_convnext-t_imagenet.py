# MixSKD, ConvNeXt-T, ImageNet: configs/baseline_convnext-t_imagenet.py
# (mmpretrain's ConvNeXt-T recipe: schedule, AdamW, augmentation pipeline,
# epochs, EMA, label smoothing 0.1, init) with the model made a
# MixSKDClassifier with the settings of configs/mixskd_r50_imagenet.py:
# full-depth branches (copies of stages 2-4, with the backbone's output
# norm), concatenation self-teacher, mixup alpha 0.2 once per batch, T = 3,
# every loss weight 1.
# Ours, not upstream:
# - No Mixup 0.8 / CutMix 1.0 batch augments (model.train_cfg dropped):
#   MixSKD mixes pairs itself and its consistency terms compare the mixup
#   images with the interpolation of the same network on the clean
#   originals; an extra batch mix would corrupt the originals
#   (MixSKDDataPreprocessor refuses batch_augments).
# - LabelSmoothLoss kept (mode 'original', accepted by check_head_loss):
#   every head's CE and mixed-label CE are smoothed, as the baseline's.
# - out_indices=(0, 1, 2, 3), gap_before_final_norm=False, GAP neck: MixSKD
#   reads every stage as a map (the baseline twin has the same network).
# - find_unused_parameters=False: every parameter gets a gradient here.
# Memory: every step runs 2 x 128 images through the backbone and three
# branches; if it does not fit, set model.with_cp='branches' or 'all'
# (exact) rather than a smaller batch, to keep the shared schedule.
# Upstream batch: 32 GPUs x 128 originals = 4096 per step.
# 8 GPUs:  tools/dist_train.sh configs/mixskd_convnext-t_imagenet.py 8 \
#              --auto-scale-lr     (lr x 1024 / 4096)
# Then:    tools/export_backbone.py \
#              work_dirs/mixskd_convnext-t_imagenet/epoch_300.pth \
#              work_dirs/mixskd_convnext-t_imagenet/backbone.pth
_base_ = [
    './baseline_convnext-t_imagenet.py', './_base_/models/mixskd.py'
]

# Replaced, not merged: ImageClassifier's train_cfg (the batch augments) is
# no argument of MixSKDClassifier.
model = dict(
    _base_.mixskd_settings,
    _delete_=True,
    backbone=_base_.model.backbone,
    neck=_base_.model.neck,
    head=_base_.model.head,
    init_cfg=_base_.model.init_cfg,
    # The recipe's mean, std, RGB order and num_classes.
    data_preprocessor=dict(
        _base_.data_preprocessor, **_base_.mixskd_mixing))
find_unused_parameters = False
