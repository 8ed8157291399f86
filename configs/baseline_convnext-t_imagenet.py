# Plain ConvNeXt-T on ImageNet: mmpretrain's own recipe
# (convnext/convnext-tiny_32xb128_in1k.py: AdamW lr 4e-3 for 4096 images per
# step, 300 epochs with 20 linear warm-up epochs, RandAugment + RandomErasing,
# Mixup 0.8 / CutMix 1.0 batch augments, label smoothing 0.1, EMA), the
# baseline of configs/mixskd_convnext-t_imagenet.py, which inherits it.
# Ours, so that both twins train and export one and the same network:
# - backbone.out_indices=(0, 1, 2, 3): ConvNeXt builds an output norm per
#   returned stage and MixSKD reads all four, so the baseline has them too
#   and both exports hold the same tensors (the layout mmdet/mmseg ConvNeXt
#   load). Here norm0-norm2 feed nothing, so DDP must allow unused
#   parameters (find_unused_parameters=True); they keep their init.
# - gap_before_final_norm=False + GlobalAveragePooling neck: the last stage
#   is normalised per position and then pooled, as in the MixSKD twin (which
#   needs maps) and downstream, instead of pooled and then normalised.
# Upstream batch: 32 GPUs x 128 = 4096 per step (auto_scale_lr 4096).
# 8 GPUs:  tools/dist_train.sh configs/baseline_convnext-t_imagenet.py 8 \
#              --auto-scale-lr     (lr x 1024 / 4096)
# Then:    tools/export_backbone.py \
#              work_dirs/baseline_convnext-t_imagenet/epoch_300.pth \
#              work_dirs/baseline_convnext-t_imagenet/backbone.pth
_base_ = 'mmpretrain::convnext/convnext-tiny_32xb128_in1k.py'
custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(out_indices=(0, 1, 2, 3), gap_before_final_norm=False),
    neck=dict(type='GlobalAveragePooling'))
find_unused_parameters = True
