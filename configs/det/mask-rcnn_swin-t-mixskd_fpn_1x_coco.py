# Mask R-CNN Swin-T FPN, 1x schedule on COCO 2017, backbone initialised from
# a MixSKD ImageNet pretraining of mmpretrain's Swin-T
# (configs/mixskd_swin-t_imagenet.py).
#
# Schedule and data inherited unchanged from mmdet's
# swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py: 12 epochs, 1333x800, AdamW
# lr 1e-4 / wd 0.05 (none on norms and relative position tables) for a total
# batch of 16 (8 GPUs x 2 images), warm-up 1000 iters, lr x0.1 after epochs
# 8 and 11.
#
# What differs from upstream, and why: the backbone is mmpretrain's
# SwinTransformer, not mmdet's. mmdet's SwinTransformer.init_weights loads
# init_cfg['checkpoint'] itself with strict=False, so StrictPretrained would
# never run there (mixskd_mm refuses that pairing at init_weights).
# mmpretrain's class is the pretraining class: same state-dict keys as
# mmdet's, init_cfg run by mmengine. Settings match upstream's backbone:
# arch tiny (embed 96, depths 2-2-6-2, heads 3-6-12-24, window 7, qkv bias,
# patch norm, no absolute position embedding), all 4 stages, drop_path_rate
# 0.2, and pad_small_map=True: mmdet pads a feature map that is not larger
# than the window and keeps the shift; mmpretrain's default (False, its
# classification behaviour) shrinks the window instead, and refuses a map
# smaller than the window.
#
# 1. Export the backbone of the pretraining checkpoint (last_checkpoint, which
#    mmengine writes into the work_dir, names the newest); its keys become
#    patch_embed.projection.weight, stages.0.blocks.0.attn.w_msa.qkv.weight,
#    ..., norm0.weight, as mmpretrain's SwinTransformer expects:
#      python tools/export_backbone.py \
#          "$(cat work_dirs/mixskd_swin-t_imagenet/last_checkpoint)" \
#          work_dirs/mixskd_swin-t_imagenet/backbone.pth
# 2. Train:
#      bash tools/dist_train.sh \
#          configs/det/mask-rcnn_swin-t-mixskd_fpn_1x_coco.py 8
#    Another backbone checkpoint:
#      --cfg-options model.backbone.init_cfg.checkpoint=path/to/backbone.pth
_base_ = [
    'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py',
    '../_base_/models/swin-t_dense.py'
]
custom_imports = dict(
    imports=['mixskd_mm', 'mmpretrain.models'], allow_failed_imports=False)

# The upstream config's drop_path_rate (0.2).
model = dict(backbone=dict(_base_.swin_t_dense, drop_path_rate=0.2))
