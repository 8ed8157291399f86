# Cascade R-CNN R50-FPN, 1x schedule on COCO 2017, backbone initialised from
# the baseline ImageNet pretraining of this project
# (configs/baseline_r50_imagenet.py: plain cross-entropy, MixSKD's schedule).
# The reference point for cascade-rcnn_r50-mixskd_fpn_1x_coco.py, whose
# notes apply: same schedule, same loading path, only the weights differ.
#
#   python tools/export_backbone.py \
#       work_dirs/baseline_r50_imagenet/epoch_305.pth \
#       work_dirs/baseline_r50_imagenet/backbone.pth
#   bash tools/dist_train.sh \
#       configs/det/cascade-rcnn_r50-baseline_fpn_1x_coco.py 8
#   (torchvision's ImageNet ResNet-50 or another checkpoint, exported:
#    --cfg-options model.backbone.init_cfg.checkpoint=path/to/backbone.pth)
_base_ = './cascade-rcnn_r50-mixskd_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            checkpoint='work_dirs/baseline_r50_imagenet/backbone.pth')))
