# Plain Swin-T on ImageNet: mmpretrain's own recipe
# (swin_transformer/swin-tiny_16xb64_in1k.py: AdamW lr 1e-3 for 1024 images
# per step, 300 epochs with 20 linear warm-up epochs, gradient clipping at
# norm 5, RandAugment + RandomErasing, Mixup 0.8 / CutMix 1.0 batch
# augments, label smoothing 0.1), the baseline of
# configs/mixskd_swin-t_imagenet.py, which inherits it.
# Ours, so that both twins train and export one and the same network:
# - backbone.out_indices=(0, 1, 2, 3): Swin builds an output norm per
#   returned stage and MixSKD reads all four, so the baseline has them too
#   and both exports hold the same tensors (the layout mmdet/mmseg Swin
#   load). Here norm0-norm2 feed nothing, so DDP must allow unused
#   parameters (find_unused_parameters=True); they keep their init. The
#   head still reads the last stage only: the forward is upstream's.
# Upstream batch: 16 GPUs x 64 = 1024 per step (auto_scale_lr 1024).
# 8 GPUs:  tools/dist_train.sh configs/baseline_swin-t_imagenet.py 8 \
#              --auto-scale-lr     (lr x 512 / 1024)
# Then:    tools/export_backbone.py \
#              work_dirs/baseline_swin-t_imagenet/epoch_300.pth \
#              work_dirs/baseline_swin-t_imagenet/backbone.pth
_base_ = 'mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py'
custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)

model = dict(backbone=dict(out_indices=(0, 1, 2, 3)))
find_unused_parameters = True
