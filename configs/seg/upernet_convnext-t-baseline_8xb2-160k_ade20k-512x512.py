# UperNet ConvNeXt-T on ADE20K, 512x512, 160k iterations, backbone initialised
# from the baseline ImageNet pretraining of this project
# (configs/baseline_convnext-t_imagenet.py). The reference point for
# upernet_convnext-t-mixskd_8xb2-160k_ade20k-512x512.py: same schedule, same
# loading path, only the weights differ.
#
#   python tools/export_backbone.py \
#       "$(cat work_dirs/baseline_convnext-t_imagenet/last_checkpoint)" \
#       work_dirs/baseline_convnext-t_imagenet/backbone.pth
#   bash tools/dist_train.sh \
#       configs/seg/upernet_convnext-t-baseline_8xb2-160k_ade20k-512x512.py 8
#   (another checkpoint: --cfg-options
#    model.backbone.init_cfg.checkpoint=path/to/backbone.pth)
_base_ = './upernet_convnext-t-mixskd_8xb2-160k_ade20k-512x512.py'

model = dict(
    backbone=dict(
        init_cfg=dict(
            checkpoint='work_dirs/baseline_convnext-t_imagenet/backbone.pth')))
