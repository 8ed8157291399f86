# MixSKD, ResNet-50, ImageNet: the authors' released recipe
# (winycg/Self-KD-Lib scripts/main_mixskd_imagenet.sh; reference-methods.md
# sections 1.4, 1.5, 1.8). Full-depth auxiliary branches, concatenation
# self-teacher, mixup alpha 0.2 once per batch, T = 3, every loss weight 1;
# 5 warm-up epochs (per iteration) then cosine set once per epoch, seed 0
# (configs/_base_/); the authors' (torchvision's) initialisation: Kaiming
# fan-out convolutions in the backbone and branches, no zero-initialised
# residual BN, PyTorch's default Linear init in every head and PyTorch's
# default for the self-teacher's 1x1 convolution.
# 8 GPUs:  tools/dist_train.sh configs/mixskd_r50_imagenet.py 8
# Then:    tools/export_backbone.py \
#              work_dirs/mixskd_r50_imagenet/epoch_305.pth \
#              work_dirs/mixskd_r50_imagenet/backbone.pth
_base_ = [
    './_base_/models/resnet50_imagenet.py', './_base_/imagenet_bs16x8_305e.py',
    './_base_/models/mixskd.py'
]

model = dict(
    _base_.mixskd_settings,
    backbone=dict(out_indices=(0, 1, 2, 3)),
    data_preprocessor=dict(
        # Faster convolutions (CPU oneDNN, tensor-core GPUs); same values.
        channels_last=True,
        **_base_.mixskd_mixing))
