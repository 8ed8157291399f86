# UperNet ConvNeXt-T on ADE20K, 512x512 crops, 160k iterations, backbone
# initialised from a MixSKD ImageNet pretraining of mmpretrain's ConvNeXt-T
# (configs/mixskd_convnext-t_imagenet.py).
#
# Everything is inherited unchanged from mmseg's
# convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py: the same
# mmpretrain ConvNeXt backbone (arch tiny, all 4 stages, drop_path_rate 0.4,
# layer_scale_init_value 1.0, gap_before_final_norm=False), AMP, AdamW
# lr 1e-4 / wd 0.05 with stage-wise lr decay 0.9, warm-up 1500 iters then
# poly decay, batch 16 (8 GPUs x 2 images), slide inference. mmseg's name
# carries "amp"; this one does not, but AMP is on (upstream's
# AmpOptimWrapper; --cfg-options optim_wrapper.type=OptimWrapper for fp32).
#
# What differs from upstream, and why: init_cfg is StrictPretrained on the
# exported backbone (no prefix) instead of Pretrained with prefix 'backbone.'
# on a download, so a checkpoint that does not fit stops with an error
# instead of a warning; custom_imports adds mixskd_mm, which registers it.
# SyncBN in the heads is kept: mmengine's Runner reverts it to BN when
# training is not distributed.
#
# 1. Export the backbone of the pretraining checkpoint (last_checkpoint, which
#    mmengine writes into the work_dir, names the newest):
#      python tools/export_backbone.py \
#          "$(cat work_dirs/mixskd_convnext-t_imagenet/last_checkpoint)" \
#          work_dirs/mixskd_convnext-t_imagenet/backbone.pth
# 2. Train:
#      bash tools/dist_train.sh \
#          configs/seg/upernet_convnext-t-mixskd_8xb2-160k_ade20k-512x512.py 8
#    Another backbone checkpoint:
#      --cfg-options model.backbone.init_cfg.checkpoint=path/to/backbone.pth
_base_ = ('mmseg::convnext/'
          'convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py')
custom_imports = dict(
    imports=['mixskd_mm', 'mmpretrain.models'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        init_cfg=dict(
            _delete_=True,
            type='StrictPretrained',
            checkpoint='work_dirs/mixskd_convnext-t_imagenet/backbone.pth',
            prefix=None,
            strict=True)))
