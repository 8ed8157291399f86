# DeepLabV3 with a dilated (output stride 8) torchvision-style ResNet-50 on
# COCO-Stuff-164K (171 classes), 512x512 crops, batch 16, 40k iterations,
# backbone initialised from a MixSKD ImageNet pretraining: the setting of
# the authors' published number (37.12 mIoU, winycg/Self-KD-Lib README;
# scripts/segmentation/*.sh run CIRKD's train_baseline.py). See
# docs/reproduce.md for the whole path.
#
# Differences from the upstream config
# (mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-80k_coco-stuff164k-512x512.py):
# - Backbone: mmseg's plain `ResNet` (conv1/bn1 stem, the key layout of the
#   exported classifier backbone, torchvision-style as the authors'
#   `resnet50_original` in CIRKD) instead of ResNetV1c, whose deep stem
#   cannot take ImageNet classifier weights; init_cfg is StrictPretrained,
#   and `pretrained=None` (EncoderDecoder would copy it into the backbone).
#   strides (1,2,1,1), dilations (1,1,2,4) and contract_dilation=True are
#   inherited: output stride 8, as torchvision's
#   replace_stride_with_dilation=[False, True, True].
# - Schedule: 40k iterations instead of 80k (the authors' --max-iterations
#   40000); validation and checkpoints every 4000 iterations as in mmseg's
#   40k schedule.
# - Optimiser: the authors' CIRKD settings, SGD lr 0.02 (not 0.01),
#   momentum 0.9, weight decay 1e-4 (not 5e-4), poly decay with power 0.9
#   to 0 (lr * (1 - iter / 40000) ** 0.9; mmseg's eta_min is 1e-4).
# Inherited unchanged: batch 16 as 4 GPUs x 4 (the authors: 8 GPUs x 2, the
# same total; on 8 GPUs add --cfg-options train_dataloader.batch_size=2),
# 512x512 crops, SyncBN, ASPP rates 12/24/36, FCN auxiliary head on stage 3
# with loss weight 0.4 (CIRKD's aux weight too), 171 classes.
# Kept from mmseg where the authors' CIRKD code differs (not changed, so
# that the numbers stay comparable with mmseg's own): training pipeline
# (mmseg resizes to (2048, 512) x [0.5, 2.0], crops with cat_max_ratio 0.75
# and adds PhotoMetricDistortion; CIRKD scales the raw image by
# [0.5, 2.0], crops and flips), and evaluation (mmseg resizes the short
# side to 512 before inference; CIRKD infers at the image's own size;
# both single scale, no flip, scored at the label's resolution).
# Labels: mmseg reads the 171 train ids that its converter writes
# (*_labelTrainIds.png); CIRKD's COCO-Stuff loader reads the raw
# stuffthingmaps values (0-181, 255 ignored). How that changes the
# averaged mIoU was not checked.
#
# 1. Export the backbone of the pretraining checkpoint (or of the authors'
#    released weights, see docs/reproduce.md):
#      python tools/export_backbone.py \
#          work_dirs/mixskd_r50_imagenet/epoch_305.pth \
#          work_dirs/mixskd_r50_imagenet/backbone.pth
# 2. Train (validation at the end gives the mIoU):
#      bash tools/dist_train.sh \
#      configs/seg/deeplabv3_r50-mixskd-d8_4xb4-40k_coco-stuff164k-512x512.py \
#      4
#    Another backbone checkpoint:
#      --cfg-options model.backbone.init_cfg.checkpoint=path/to/backbone.pth
_base_ = 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-80k_coco-stuff164k-512x512.py'
custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)

model = dict(
    pretrained=None,
    backbone=dict(
        type='ResNet',
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='work_dirs/mixskd_r50_imagenet/backbone.pth',
            prefix=None,
            strict=True)))

optim_wrapper = dict(optimizer=dict(lr=0.02, weight_decay=0.0001))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=40000,
        by_epoch=False)
]
train_cfg = dict(max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
