# Data, network size and schedule of the demo's classification pretraining:
# the generated ImageNet-style set of tools/make_demo_data.py (20 shape x
# texture classes, 64 px). A demo config inherits its method's real recipe
# and this file, then lifts `demo` to the top level with
# `globals().update(_base_.demo)`, so that it overrides only data, schedule
# and network size. The indirection is mmengine's rule: two bases of one
# config may not set the same key, and the recipe sets all of these. The
# epoch count is the 'default' demo size; the demo pipeline (tools/demo.py)
# shortens it for --size tiny/small.
_epochs = 4
# The demo's crop: the augmentation demos put it in place of the recipe's.
demo_crop = dict(
    type='RandomResizedCrop', scale=64, crop_ratio_range=(0.5, 1.0))
_train_pipeline = [
    dict(type='LoadImageFromFile'),
    demo_crop,
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
_test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


def _loader(split, pipeline, shuffle):
    return dict(
        _delete_=True,
        batch_size=32,
        num_workers=0,
        persistent_workers=False,
        collate_fn=dict(type='default_collate'),
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        dataset=dict(
            type='CustomDataset',
            data_root='data/demo/cls',
            ann_file=f'meta/{split}.txt',
            data_prefix=split,
            pipeline=pipeline))


# ResNet-18 at half width (stem and stage widths 32-256 instead of
# 64-512): the recipes' architecture at about a third of the CPU time per
# step. The detection and segmentation demo configs build the same backbone.
# zero_init_residual: the demo's one change to the recipes' (authors')
# initialisation. Over the demo's few hundred steps MixSKD with the
# authors' init stays near chance: its feature-map term (row 6 of
# reference-methods.md) pulls the features towards a constant before the
# CE terms start to fall. With zero-initialised residual BN it learns from
# the first epoch. Both methods use it, so the comparison stays fair.
_backbone = dict(
    depth=18, stem_channels=32, base_channels=32, zero_init_residual=True)
_feat_channels = 256  # width of the last stage, read by the heads

# The teacher of the KD and MIX-KD demos is the demo's baseline; its last
# checkpoint (the demo pipeline passes the path of its own run).
demo_teacher = dict(
    config=dict(
        backbone=_backbone,
        head=dict(num_classes=20, in_channels=_feat_channels)),
    checkpoint=f'work_dirs/demo/pretrain_baseline/epoch_{_epochs}.pth')

# Every top-level key a demo config takes over the recipe's.
demo = dict(
    # Merged into the recipe's model, which keeps its type, losses and
    # method settings; the head gets no type and no loss for the same reason.
    model=dict(
        backbone=_backbone,
        head=dict(num_classes=20, in_channels=_feat_channels, topk=(1, )),
        data_preprocessor=dict(num_classes=20)),
    train_dataloader=_loader('train', _train_pipeline, True),
    # Each loader and evaluator its own dict: mmengine pops `_delete_` from
    # the dict it merges, so a dict shared by two keys replaces only the
    # first and the second keeps the ImageNet base's keys (`split`, which
    # CustomDataset refuses).
    val_dataloader=_loader('val', _test_pipeline, False),
    test_dataloader=_loader('val', _test_pipeline, False),
    val_evaluator=dict(_delete_=True, type='Accuracy', topk=(1, )),
    test_evaluator=dict(_delete_=True, type='Accuracy', topk=(1, )),
    # The recipes' lr 0.1 for 128 originals per step would be 0.025 for the
    # demo's 32 (the --auto-scale-lr rule). With zero-initialised residual
    # BN and one warm-up epoch a higher lr, 0.05, is stable and lets the
    # short schedule get well above chance; lr 0.01 was too slow for it.
    optim_wrapper=dict(
        _delete_=True,
        optimizer=dict(
            type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4)),
    param_scheduler=[
        dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0,
             end=1, convert_to_iter_based=True),
        dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=_epochs,
             T_max=_epochs - 1, convert_to_iter_based=True),
    ],
    # Validated every epoch: the report plots accuracy over training.
    train_cfg=dict(by_epoch=True, max_epochs=_epochs, val_interval=1),
    default_hooks=dict(
        logger=dict(type='LoggerHook', interval=10),
        checkpoint=dict(
            type='CheckpointHook', interval=_epochs, max_keep_ckpts=1)),
)
