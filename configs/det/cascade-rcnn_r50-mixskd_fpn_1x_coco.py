# Cascade R-CNN R50-FPN, 1x schedule on COCO 2017, backbone initialised from
# a MixSKD ImageNet pretraining: the setting of the authors' published COCO
# number (41.6 box AP, winycg/Self-KD-Lib README; their run used
# configs/cascade_rcnn/cascade_rcnn_r50_fpn_1x_coco.py of winycg/detection,
# an MMDetection 2.x fork). See docs/reproduce.md for the whole path.
#
# Differences from the upstream config
# (mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py):
# - model.backbone.init_cfg: StrictPretrained on the exported MixSKD
#   backbone instead of Pretrained('torchvision://resnet50'). The authors
#   edited the same line to point at their resnet50_mixskd.pth.tar.
# Nothing else differs: the authors' detection settings (reference-
# methods.md 1.9) are mmdet's defaults, which this file inherits unchanged:
# 12 epochs, SGD lr 0.02 for a total batch of 16 (8 GPUs x 2 images),
# momentum 0.9, wd 1e-4, linear warm-up over 500 iterations from 0.001x,
# lr x0.1 after epochs 8 and 11; 1333x800 resize, flip 0.5;
# frozen_stages=1 and norm_eval=True; three cascade stages with IoU
# thresholds 0.5/0.6/0.7; COCO 2017 train/val.
#
# 1. Export the backbone of the pretraining checkpoint (or of the authors'
#    released weights, see docs/reproduce.md):
#      python tools/export_backbone.py \
#          work_dirs/mixskd_r50_imagenet/epoch_305.pth \
#          work_dirs/mixskd_r50_imagenet/backbone.pth
# 2. Train and evaluate (8 GPUs x 2 images, as the authors):
#      bash tools/dist_train.sh \
#          configs/det/cascade-rcnn_r50-mixskd_fpn_1x_coco.py 8
#    Another backbone checkpoint:
#      --cfg-options model.backbone.init_cfg.checkpoint=path/to/backbone.pth
# The baseline in the same setting: cascade-rcnn_r50-baseline_fpn_1x_coco.py.
_base_ = 'mmdet::cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,
            type='StrictPretrained',
            checkpoint='work_dirs/mixskd_r50_imagenet/backbone.pth',
            prefix=None,
            strict=True)))
