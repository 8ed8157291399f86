# MixSKD, MobileNetV2 (1.0x), ImageNet:
# configs/baseline_mobilenet-v2_imagenet.py (mmpretrain's recipe: schedule,
# SGD, pipeline, epochs, CE head, init) with the model made a
# MixSKDClassifier with the settings of configs/mixskd_r50_imagenet.py:
# full-depth branches, concatenation self-teacher, mixup alpha 0.2 once per
# batch, T = 3, every loss weight 1. The four stages are the layer groups
# at strides 4, 8, 16 and 32 (layer1-2, layer3, layer4-5, layer6-7 + the
# last 1x1 convolution), so each branch copies the groups after its stage,
# the final 1280-wide convolution included.
# Ours, not upstream:
# - out_indices=(1, 2, 4, 7): the last layer of each of those groups.
# - channels_last=True on the preprocessor, as the r50 recipe: faster
#   convolutions (CPU oneDNN, tensor-core GPUs), same values.
# Upstream batch: 8 GPUs x 32 originals = 256 per step.
# 8 GPUs:  tools/dist_train.sh configs/mixskd_mobilenet-v2_imagenet.py 8
# Then:    tools/export_backbone.py \
#              work_dirs/mixskd_mobilenet-v2_imagenet/epoch_300.pth \
#              work_dirs/mixskd_mobilenet-v2_imagenet/backbone.pth
_base_ = [
    './baseline_mobilenet-v2_imagenet.py', './_base_/models/mixskd.py'
]

model = dict(
    _base_.mixskd_settings,
    backbone=dict(out_indices=(1, 2, 4, 7)),
    # The recipe's mean, std, RGB order and num_classes.
    data_preprocessor=dict(
        _base_.data_preprocessor,
        channels_last=True,
        **_base_.mixskd_mixing))
