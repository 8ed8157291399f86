# DeepLabV3 R50-D8 (torchvision-style ResNet-50), ADE20K (150 classes), 40k
# iterations, backbone initialised from the baseline ImageNet pretraining
# of this project (configs/baseline_r50_imagenet.py: plain cross-entropy,
# MixSKD's schedule): the reference point for
# deeplabv3_r50-mixskd-d8_4xb4-40k_ade20k-512x512.py, whose notes
# apply (same schedule, same loading path, only the weights differ).
#
#   python tools/export_backbone.py \
#       work_dirs/baseline_r50_imagenet/epoch_305.pth \
#       work_dirs/baseline_r50_imagenet/backbone.pth
#   bash tools/dist_train.sh \
#       configs/seg/deeplabv3_r50-baseline-d8_4xb4-40k_ade20k-512x512.py 4
#   (torchvision's ImageNet ResNet-50 or another checkpoint, exported:
#    --cfg-options model.backbone.init_cfg.checkpoint=path/to/backbone.pth)
_base_ = './deeplabv3_r50-mixskd-d8_4xb4-40k_ade20k-512x512.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            checkpoint='work_dirs/baseline_r50_imagenet/backbone.pth')))
