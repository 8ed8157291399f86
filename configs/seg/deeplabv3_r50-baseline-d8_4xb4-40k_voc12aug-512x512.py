# DeepLabV3 R50-D8 (torchvision-style ResNet-50), VOC 2012 aug, 40k iters,
# backbone initialised from the baseline ImageNet pretraining of this
# project (configs/baseline_r50_imagenet.py): the reference point for
# deeplabv3_r50-mixskd-d8_4xb4-40k_voc12aug-512x512.py, whose notes apply.
#
#   python tools/export_backbone.py \
#       work_dirs/baseline_r50_imagenet/epoch_305.pth \
#       work_dirs/baseline_r50_imagenet/backbone.pth
#   bash tools/dist_train.sh \
#       configs/seg/deeplabv3_r50-baseline-d8_4xb4-40k_voc12aug-512x512.py 4
#   (another checkpoint: --cfg-options
#    model.backbone.init_cfg.checkpoint=path/to/backbone.pth)
_base_ = './deeplabv3_r50-mixskd-d8_4xb4-40k_voc12aug-512x512.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            checkpoint='work_dirs/baseline_r50_imagenet/backbone.pth')))
