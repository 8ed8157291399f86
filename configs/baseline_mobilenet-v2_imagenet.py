# Plain MobileNetV2 (1.0x) on ImageNet: mmpretrain's own recipe, unchanged
# (mobilenet_v2/mobilenet-v2_8xb32_in1k.py: SGD lr 0.045 for 256 images per
# step, wd 4e-5, 300 epochs with lr x 0.98 every epoch, random resized crop +
# flip), the baseline of configs/mixskd_mobilenet-v2_imagenet.py, which
# inherits it. Its out_indices=(7, ) holds the same tensors as MixSKD's
# (1, 2, 4, 7).
# Upstream batch: 8 GPUs x 32 = 256 per step.
# 8 GPUs:  tools/dist_train.sh configs/baseline_mobilenet-v2_imagenet.py 8
# Then:    tools/export_backbone.py \
#              work_dirs/baseline_mobilenet-v2_imagenet/epoch_300.pth \
#              work_dirs/baseline_mobilenet-v2_imagenet/backbone.pth
_base_ = 'mmpretrain::mobilenet_v2/mobilenet-v2_8xb32_in1k.py'
custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)
