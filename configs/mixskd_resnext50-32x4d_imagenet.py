# MixSKD, ResNeXt-50 (32x4d), ImageNet:
# configs/baseline_resnext50-32x4d_imagenet.py (mmpretrain's recipe:
# schedule, SGD, pipeline, epochs, CE head, init) with the model made a
# MixSKDClassifier with the settings of configs/mixskd_r50_imagenet.py:
# full-depth branches (copies of layer2-4), concatenation self-teacher,
# mixup alpha 0.2 once per batch, T = 3, every loss weight 1.
# Ours, not upstream:
# - out_indices=(0, 1, 2, 3): MixSKD reads every stage.
# - channels_last=True on the preprocessor, as the r50 recipe: faster
#   convolutions (CPU oneDNN, tensor-core GPUs), same values.
# Kept from upstream, unlike the r50 recipe (the authors' torchvision init):
# mmpretrain's zero-initialised last BN of each residual block in the
# backbone. The branch copies get the backbone's init rules (BN weight 1).
# Upstream batch: 8 GPUs x 32 originals = 256 per step.
# 8 GPUs:  tools/dist_train.sh configs/mixskd_resnext50-32x4d_imagenet.py 8
# Then:    tools/export_backbone.py \
#              work_dirs/mixskd_resnext50-32x4d_imagenet/epoch_100.pth \
#              work_dirs/mixskd_resnext50-32x4d_imagenet/backbone.pth
_base_ = [
    './baseline_resnext50-32x4d_imagenet.py', './_base_/models/mixskd.py'
]

model = dict(
    _base_.mixskd_settings,
    backbone=dict(out_indices=(0, 1, 2, 3)),
    # The recipe's mean, std, RGB order and num_classes.
    data_preprocessor=dict(
        _base_.data_preprocessor,
        channels_last=True,
        **_base_.mixskd_mixing))
