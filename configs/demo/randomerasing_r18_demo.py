# Demo: Random Erasing pretraining = the real ImageNet recipe
# (randomerasing_r50_imagenet.py) with the demo's data, schedule and network
# size (ResNet-18 at half width, 64 px, 20 classes).
# Kept of the method: RandomErasing after crop and flip, the recipe's settings.
_base_ = ['../randomerasing_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's pipeline with the recipe's RandomErasing at its place (after
# crop and flip); its sizes are area ratios, so they stay as they are.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        min_area_ratio=0.02,
        max_area_ratio=0.4,
        aspect_range=(0.3, 1 / 0.3),
        mode='const',
        fill_color=(104, 116, 124)),
    dict(type='PackInputs'),
]
model = dict(
    backbone={{_base_.demo.backbone}},
    head={{_base_.demo.head}},
    data_preprocessor={{_base_.demo.data_preprocessor}})
# The demo's train loader, key by key (so its data stays the demo's), with
# the pipeline above: {{_base_.demo.train_dataloader}} would bring the
# demo's pipeline and drop the augmentation.
train_dataloader = dict(
    _delete_=True,
    batch_size={{_base_.demo.train_dataloader.batch_size}},
    num_workers={{_base_.demo.train_dataloader.num_workers}},
    persistent_workers={{_base_.demo.train_dataloader.persistent_workers}},
    collate_fn={{_base_.demo.train_dataloader.collate_fn}},
    sampler={{_base_.demo.train_dataloader.sampler}},
    dataset=dict(
        type={{_base_.demo.train_dataloader.dataset.type}},
        data_root={{_base_.demo.train_dataloader.dataset.data_root}},
        ann_file={{_base_.demo.train_dataloader.dataset.ann_file}},
        data_prefix={{_base_.demo.train_dataloader.dataset.data_prefix}},
        pipeline=train_pipeline))
val_dataloader = {{_base_.demo.val_dataloader}}
test_dataloader = {{_base_.demo.test_dataloader}}
val_evaluator = {{_base_.demo.val_evaluator}}
test_evaluator = val_evaluator
optim_wrapper = {{_base_.demo.optim_wrapper}}
param_scheduler = {{_base_.demo.param_scheduler}}
train_cfg = {{_base_.demo.train_cfg}}
default_hooks = {{_base_.demo.default_hooks}}
