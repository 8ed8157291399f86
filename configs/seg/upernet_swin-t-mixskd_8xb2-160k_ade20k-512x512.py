# UperNet Swin-T on ADE20K, 512x512 crops, 160k iterations, backbone
# initialised from a MixSKD ImageNet pretraining of mmpretrain's Swin-T
# (configs/mixskd_swin-t_imagenet.py).
#
# Schedule and data inherited unchanged from mmseg's
# swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py:
# AdamW lr 6e-5 / wd 0.01 (none on norms and relative position tables),
# warm-up 1500 iters then poly decay, batch 16 (8 GPUs x 2 images), fp32,
# whole-image inference.
#
# What differs from upstream, and why: the backbone is mmpretrain's
# SwinTransformer, not mmseg's. mmseg's SwinTransformer.init_weights loads
# init_cfg['checkpoint'] itself with strict=False, so StrictPretrained would
# never run there (mixskd_mm refuses that pairing at init_weights).
# mmpretrain's class is the pretraining class: same state-dict keys as
# mmseg's, init_cfg run by mmengine. Settings match upstream's backbone:
# arch tiny (embed 96, depths 2-2-6-2, heads 3-6-12-24, window 7, qkv bias,
# patch norm, LN, GELU, no absolute position embedding), all 4 stages,
# drop_path_rate 0.3, and pad_small_map=True: mmseg pads a feature map that is
# not larger than the window and keeps the shift; mmpretrain's default
# (False, its classification behaviour) shrinks the window instead, and
# refuses a map smaller than the window. The param-wise no-decay keys match
# mmpretrain's parameter names too (the keys are the same).
#
# 1. Export the backbone of the pretraining checkpoint (last_checkpoint, which
#    mmengine writes into the work_dir, names the newest):
#      python tools/export_backbone.py \
#          "$(cat work_dirs/mixskd_swin-t_imagenet/last_checkpoint)" \
#          work_dirs/mixskd_swin-t_imagenet/backbone.pth
# 2. Train:
#      bash tools/dist_train.sh \
#          configs/seg/upernet_swin-t-mixskd_8xb2-160k_ade20k-512x512.py 8
#    Another backbone checkpoint:
#      --cfg-options model.backbone.init_cfg.checkpoint=path/to/backbone.pth
_base_ = [
    'mmseg::swin/'
    'swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512'
    '.py',
    '../_base_/models/swin-t_dense.py'
]
custom_imports = dict(
    imports=['mixskd_mm', 'mmpretrain.models'], allow_failed_imports=False)

# The upstream config's drop_path_rate (0.3).
model = dict(backbone=dict(_base_.swin_t_dense, drop_path_rate=0.3))
