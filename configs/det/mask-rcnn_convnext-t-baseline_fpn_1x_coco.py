# Mask R-CNN ConvNeXt-T FPN, 1x schedule on COCO 2017, backbone initialised
# from the baseline ImageNet pretraining of this project
# (configs/baseline_convnext-t_imagenet.py: plain cross-entropy, MixSKD's
# schedule). The reference point for mask-rcnn_convnext-t-mixskd_fpn_1x_coco
# .py: same schedule, same loading path, only the weights differ.
#
#   python tools/export_backbone.py \
#       "$(cat work_dirs/baseline_convnext-t_imagenet/last_checkpoint)" \
#       work_dirs/baseline_convnext-t_imagenet/backbone.pth
#   bash tools/dist_train.sh \
#       configs/det/mask-rcnn_convnext-t-baseline_fpn_1x_coco.py 8
#   (another checkpoint: --cfg-options
#    model.backbone.init_cfg.checkpoint=path/to/backbone.pth)
_base_ = './mask-rcnn_convnext-t-mixskd_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            checkpoint='work_dirs/baseline_convnext-t_imagenet/backbone.pth')))
