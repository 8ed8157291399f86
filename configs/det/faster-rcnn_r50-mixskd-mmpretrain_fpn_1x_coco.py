# Same as faster-rcnn_r50-mixskd_fpn_1x_coco.py, but without the export step:
# the backbone is mmpretrain's ResNet (the class used in pretraining) and it
# loads the raw MixSKD training checkpoint through prefix='backbone.'.
# StrictPretrained still checks strictly: every tensor under 'backbone.' must
# match the backbone (the head, branches and self-teacher are ignored).
#
#   bash tools/dist_train.sh \
#       configs/det/faster-rcnn_r50-mixskd-mmpretrain_fpn_1x_coco.py 8
#   (another checkpoint: --cfg-options
#    model.backbone.init_cfg.checkpoint=path/to/training_checkpoint.pth)
#
# mmpretrain's ResNet has the same state-dict keys and forward as mmdet's
# ResNet with style='pytorch', so results should match the exported path.
_base_ = './faster-rcnn_r50-mixskd_fpn_1x_coco.py'
custom_imports = dict(
    imports=['mixskd_mm', 'mmpretrain.models'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(
            type='StrictPretrained',
            checkpoint='work_dirs/mixskd_r50_imagenet/epoch_305.pth',
            prefix='backbone.')))
