# Plain ResNeXt-50 (32x4d) on ImageNet: mmpretrain's own recipe, unchanged
# (resnext/resnext50-32x4d_8xb32_in1k.py: SGD lr 0.1 for 256 images per
# step, wd 1e-4, 100 epochs with steps at 30/60/90, random resized crop +
# flip, mmpretrain's zero-initialised residual BN), the baseline of
# configs/mixskd_resnext50-32x4d_imagenet.py, which inherits it. Its
# out_indices=(3, ) holds the same tensors as MixSKD's (0, 1, 2, 3).
# Upstream batch: 8 GPUs x 32 = 256 per step.
# 8 GPUs:  tools/dist_train.sh configs/baseline_resnext50-32x4d_imagenet.py 8
# Then:    tools/export_backbone.py \
#              work_dirs/baseline_resnext50-32x4d_imagenet/epoch_100.pth \
#              work_dirs/baseline_resnext50-32x4d_imagenet/backbone.pth
_base_ = 'mmpretrain::resnext/resnext50-32x4d_8xb32_in1k.py'
custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)
