# Swin-T pretrained by configs/mixskd_swin-t_imagenet.py as the backbone of a
# detector or segmentor (configs/det/mask-rcnn_swin-t-*, configs/seg/
# upernet_swin-t-*). mmpretrain's SwinTransformer, not mmdet's or mmseg's: the
# exported keys are its own, and StrictPretrained loads them strictly (mmdet's
# and mmseg's Swin load the checkpoint themselves, non-strictly, and the
# patch swin_strict_pretrained_guard refuses that pairing). All four stages
# out; pad_small_map for inputs whose side is not a multiple of the window.
# A config takes it as `model.backbone = dict(_base_.swin_t_dense, ...)`
# with its upstream's drop_path_rate: a top-level `model` here would clash
# with the upstream base's (mmengine forbids two bases setting one key).
swin_t_dense = dict(
    _delete_=True,
    type='mmpretrain.SwinTransformer',
    arch='tiny',
    out_indices=(0, 1, 2, 3),
    pad_small_map=True,
    init_cfg=dict(
        type='StrictPretrained',
        checkpoint='work_dirs/mixskd_swin-t_imagenet/backbone.pth',
        prefix=None,
        strict=True))
