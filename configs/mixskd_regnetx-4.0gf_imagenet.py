# MixSKD, RegNetX-4.0GF, ImageNet: configs/baseline_regnetx-4.0gf_imagenet.py
# (mmpretrain's recipe: schedule, SGD + Nesterov, pipeline, BGR mean/std,
# epochs, CE head, init, PreciseBNHook) with the model made a
# MixSKDClassifier with the settings of configs/mixskd_r50_imagenet.py:
# full-depth branches (copies of stages 2-4), concatenation self-teacher,
# mixup alpha 0.2 once per batch, T = 3, every loss weight 1.
# Ours, not upstream:
# - out_indices=(0, 1, 2, 3): MixSKD reads every stage.
# - channels_last=True on the preprocessor, as the r50 recipe: faster
#   convolutions (CPU oneDNN, tensor-core GPUs), same values.
# - PreciseBNHook kept: it runs the deployable path (backbone, neck, head)
#   on clean batches, so the backbone's BN statistics become those of clean
#   images, which it predicts on (training normalises over originals and
#   mixup images together); the branches' statistics are left as they are.
# Upstream batch: 8 GPUs x 64 originals = 512 per step.
# 8 GPUs:  tools/dist_train.sh configs/mixskd_regnetx-4.0gf_imagenet.py 8
# Then:    tools/export_backbone.py \
#              work_dirs/mixskd_regnetx-4.0gf_imagenet/epoch_100.pth \
#              work_dirs/mixskd_regnetx-4.0gf_imagenet/backbone.pth
_base_ = [
    './baseline_regnetx-4.0gf_imagenet.py', './_base_/models/mixskd.py'
]

model = dict(
    _base_.mixskd_settings,
    backbone=dict(out_indices=(0, 1, 2, 3)),
    # The recipe's mean, std, BGR order and num_classes.
    data_preprocessor=dict(
        _base_.data_preprocessor,
        channels_last=True,
        **_base_.mixskd_mixing))
