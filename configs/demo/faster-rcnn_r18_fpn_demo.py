# Demo: Faster R-CNN fine-tuning = the real transfer config
# (det/faster-rcnn_r50-mixskd_fpn_1x_coco.py) with the demo's data (the
# COCO-format shapes set, 128 px, 5 classes), schedule and network size (the
# pretraining's half-width ResNet-18 of configs/demo/_base_/pretrain_demo.py;
# the strict backbone load fails loudly if the two ever differ).
# The demo pipeline sets model.backbone.init_cfg.checkpoint to the exported
# backbone of each pretraining method.
_base_ = ['../det/faster-rcnn_r50-mixskd_fpn_1x_coco.py']

_epochs = 3
_scale = (128, 128)
_classes = ('circle', 'cross', 'square', 'star', 'triangle')
_data_root = 'data/demo/det'

model = dict(
    backbone=dict(
        depth=18,
        stem_channels=32,
        base_channels=32,
        init_cfg=dict(checkpoint='work_dirs/demo/pretrain_mixskd/'
                      'backbone.pth')),
    # Neck and heads scaled down with the backbone (FPN 256 -> 64 channels,
    # box head FCs 1024 -> 256): at COCO widths they were most of the CPU time
    # of a step on 128-px images.
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
    # Objects are 12-60 px: anchors of 16-256 px (scale 4) fit them.
    rpn_head=dict(
        in_channels=64, feat_channels=64,
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(
            in_channels=64, fc_out_channels=256,
            num_classes=len(_classes))),
    # At most 4 objects per 128-px image: far fewer proposals and sampled
    # RoIs than COCO's defaults (2000/1000 proposals, 512 RoIs per image),
    # which would make the RoI head most of the CPU time.
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=100),
        rcnn=dict(max_per_img=20)))

_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=_data_root,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'),
        metainfo=dict(classes=_classes),
        pipeline=_train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=_data_root,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img='val/'),
        metainfo=dict(classes=_classes),
        pipeline=_test_pipeline))
test_dataloader = val_dataloader
# classwise: the AP of every shape reaches the logs and the demo report.
val_evaluator = dict(
    ann_file=_data_root + '/annotations/instances_val.json', classwise=True)
test_evaluator = val_evaluator

# The 1x recipe's shape (linear warm-up, step decay), shortened; lr scaled
# linearly from 0.02 at batch 16.
# Gradients clipped (as mmdet's RetinaNet/RPN recipes do): starting from a
# backbone pretrained for minutes, the first iterations can otherwise blow
# the loss up to inf on this small set (NonFiniteLossHook then stops it).
optim_wrapper = dict(
    optimizer=dict(lr=0.01), clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=50),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=_epochs,
         milestones=[2], gamma=0.1),
]
# Validated every epoch: the report plots mAP over training.
train_cfg = dict(max_epochs=_epochs, val_interval=1)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=_epochs, max_keep_ckpts=1))
