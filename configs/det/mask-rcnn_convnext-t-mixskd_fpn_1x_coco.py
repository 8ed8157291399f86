# Mask R-CNN ConvNeXt-T FPN, 1x schedule on COCO 2017, backbone initialised
# from a MixSKD ImageNet pretraining of mmpretrain's ConvNeXt-T
# (configs/mixskd_convnext-t_imagenet.py).
#
# Base: mmdet's Swin-T Mask R-CNN 1x (mmdet::swin/mask-rcnn_swin-t-p4-w7_
# fpn_1x_coco.py), not mmdet's only ConvNeXt Mask R-CNN, which is a 3x recipe
# with multi-scale + crop augmentation (mask-rcnn_convnext-t-p4-w7_fpn_amp-
# ms-crop-3x_coco.py). Taking the Swin 1x keeps everything but the backbone
# and its optimizer identical to mask-rcnn_swin-t-mixskd_fpn_1x_coco.py:
# 12 epochs, 1333x800 single-scale training, AdamW lr 1e-4 / wd 0.05 for a
# total batch of 16 (8 GPUs x 2 images), linear warm-up over 1000 iters,
# lr x0.1 after epochs 8 and 11 (mmdet's mask-rcnn_r50_fpn_1x_coco.py with
# AdamW and a longer warm-up).
#
# What differs from that base, and why:
# - backbone: mmpretrain's ConvNeXt with the settings of mmdet's ConvNeXt-T
#   Mask R-CNN (arch tiny, all 4 stages, drop_path_rate 0.4,
#   layer_scale_init_value 1.0, gap_before_final_norm=False: one norm per
#   output stage, the key layout of the exported backbone). mmpretrain's
#   class is the pretraining class itself, and it runs init_cfg through
#   mmengine, so StrictPretrained checks every key.
# - neck in_channels: inherited [96, 192, 384, 768], ConvNeXt-T's widths too.
# - optim_wrapper: the ConvNeXt config's (AMP, layer-wise lr decay 0.95 over
#   6 layers, AdamW lr 1e-4 / wd 0.05), in place of Swin's no-decay
#   custom_keys, which name Swin parameters. To train in fp32:
#   --cfg-options optim_wrapper.type=OptimWrapper
#
# 1. Export the backbone of the pretraining checkpoint (last_checkpoint, which
#    mmengine writes into the work_dir, names the newest); its keys become
#    downsample_layers.0.0.weight, stages.0.0.depthwise_conv.weight, ...,
#    norm0.weight, as mmpretrain's ConvNeXt expects:
#      python tools/export_backbone.py \
#          "$(cat work_dirs/mixskd_convnext-t_imagenet/last_checkpoint)" \
#          work_dirs/mixskd_convnext-t_imagenet/backbone.pth
# 2. Train:
#      bash tools/dist_train.sh \
#          configs/det/mask-rcnn_convnext-t-mixskd_fpn_1x_coco.py 8
#    Another backbone checkpoint:
#      --cfg-options model.backbone.init_cfg.checkpoint=path/to/backbone.pth
_base_ = 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py'
custom_imports = dict(
    imports=['mixskd_mm', 'mmpretrain.models'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXt',
        arch='tiny',
        out_indices=[0, 1, 2, 3],
        drop_path_rate=0.4,
        layer_scale_init_value=1.0,
        gap_before_final_norm=False,
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='work_dirs/mixskd_convnext-t_imagenet/backbone.pth',
            prefix=None,
            strict=True)))

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    constructor='LearningRateDecayOptimizerConstructor',
    paramwise_cfg={
        'decay_rate': 0.95,
        'decay_type': 'layer_wise',
        'num_layers': 6
    },
    optimizer=dict(
        type='AdamW', lr=0.0001, betas=(0.9, 0.999), weight_decay=0.05))
