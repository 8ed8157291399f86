# Faster R-CNN R50-FPN, 1x schedule on COCO 2017, backbone initialised from a
# MixSKD ImageNet pretraining (the paper's detection transfer setting).
#
# Schedule (inherited unchanged from mmdet's faster-rcnn_r50_fpn_1x_coco.py,
# the same as the paper's): 12 epochs, SGD lr 0.02 for a total batch of 16
# (8 GPUs x 2 images), momentum 0.9, wd 1e-4, linear warm-up over 500 iters,
# lr x0.1 after epochs 8 and 11; 1333x800 images; frozen_stages=1 and
# norm_eval=True (BN statistics of the backbone frozen).
#
# 1. Export the backbone of the pretraining checkpoint (trained with
#    configs/mixskd_r50_imagenet.py); its keys become conv1.weight,
#    layer1.0.conv1.weight, ... as mmdet's ResNet expects:
#      python tools/export_backbone.py \
#          work_dirs/mixskd_r50_imagenet/epoch_305.pth \
#          work_dirs/mixskd_r50_imagenet/backbone.pth
# 2. Train:
#      bash tools/dist_train.sh \
#          configs/det/faster-rcnn_r50-mixskd_fpn_1x_coco.py 8
#    Another backbone checkpoint:
#      --cfg-options model.backbone.init_cfg.checkpoint=path/to/backbone.pth
#
# StrictPretrained stops with an error when the checkpoint does not match
# the backbone exactly (e.g. a raw training checkpoint with 'backbone.'
# keys), where mmdet's 'Pretrained' would only warn and train from random
# weights. To load a raw training checkpoint directly, see
# faster-rcnn_r50-mixskd-mmpretrain_fpn_1x_coco.py.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,
            type='StrictPretrained',
            checkpoint='work_dirs/mixskd_r50_imagenet/backbone.pth')))
