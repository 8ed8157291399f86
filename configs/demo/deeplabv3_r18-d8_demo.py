# Demo: DeepLabV3 fine-tuning = the real transfer config
# (seg/deeplabv3_r50-mixskd-d8_4xb4-40k_voc12aug-512x512.py) with the demo's
# data (the VOC-layout shapes set, 128 px, background + 5 shapes), schedule
# and network size (the pretraining's half-width ResNet-18 of
# configs/demo/_base_/pretrain_demo.py, decoder widths scaled down with it;
# the strict backbone load fails loudly if the two ever differ). The demo
# pipeline sets model.backbone.init_cfg.checkpoint to the exported backbone
# of each pretraining method.
_base_ = ['../seg/deeplabv3_r50-mixskd-d8_4xb4-40k_voc12aug-512x512.py']
custom_imports = dict(
    imports=['mixskd_mm', 'mixskd_mm.evaluation.classwise_iou'],
    allow_failed_imports=False)

_iters = 200
_crop = (128, 128)
_classes = ('background', 'circle', 'cross', 'square', 'star', 'triangle')
_palette = [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0],
            [0, 0, 128], [128, 0, 128]]
_data_root = 'data/demo/seg/VOC2012'

model = dict(
    data_preprocessor=dict(size=_crop),
    backbone=dict(
        depth=18,
        stem_channels=32,
        base_channels=32,
        init_cfg=dict(checkpoint='work_dirs/demo/pretrain_mixskd/'
                      'backbone.pth')),
    decode_head=dict(in_channels=256, channels=128,
                     num_classes=len(_classes)),
    auxiliary_head=dict(in_channels=128, channels=64,
                        num_classes=len(_classes)))

_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(256, 128), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=_crop, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]


def _dataset(split, pipeline):
    # mmseg's BaseSegDataset (PascalVOCDataset's unchanged parent) reads the
    # VOC layout and accepts the demo's class names (see mixskd_mm.demo).
    return dict(
        _delete_=True,
        type='BaseSegDataset',
        data_root=_data_root,
        ann_file=f'ImageSets/Segmentation/{split}.txt',
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        metainfo=dict(classes=_classes, palette=_palette),
        pipeline=pipeline)


train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=_dataset('train', _train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    dataset=_dataset('val', _test_pipeline))
test_dataloader = val_dataloader

# The decoder starts from random weights and has only the demo's few hundred
# iterations: it learns at 10x the backbone's lr (DeepLab's own practice for
# its classifier). At 1x the baseline's segmentor found the background and
# the circle but no triangle in any of 3 seeds and no cross in 2 of them.
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(
        decode_head=dict(lr_mult=10.0), auxiliary_head=dict(lr_mult=10.0))))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=_iters,
         by_epoch=False)
]
# Validated every 50 iterations: the report plots mIoU over training and
# the IoU of every class (ClasswiseIoUMetric).
train_cfg = dict(max_iters=_iters, val_interval=50)
val_evaluator = dict(type='ClasswiseIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=_iters, max_keep_ckpts=1))
