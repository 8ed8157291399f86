# Demo: DDGSD pretraining = the real ImageNet recipe
# (ddgsd_r50_imagenet.py) with the demo's data, schedule and network size
# (ResNet-18 at half width, 64 px, 20 classes). Its train loader is the
# demo's with the augmentation wrapped in MultiView (two views per image).
_base_ = ['../ddgsd_r50_imagenet.py', './_base_/pretrain_demo.py']

model = dict(
    backbone={{_base_.demo.backbone}},
    head={{_base_.demo.head}},
    data_preprocessor={{_base_.demo.data_preprocessor}})
train_dataloader = dict(
    _delete_=True,
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CustomDataset',
        data_root='data/demo/cls',
        ann_file='meta/train.txt',
        data_prefix='train',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='MultiView',
                 num_views=2,
                 transforms=[[
                     dict(type='RandomResizedCrop', scale=64,
                          crop_ratio_range=(0.5, 1.0)),
                     dict(type='RandomFlip', prob=0.5,
                          direction='horizontal'),
                 ]]),
            dict(type='PackInputs'),
        ]))
val_dataloader = {{_base_.demo.val_dataloader}}
test_dataloader = {{_base_.demo.test_dataloader}}
val_evaluator = {{_base_.demo.val_evaluator}}
test_evaluator = val_evaluator
optim_wrapper = {{_base_.demo.optim_wrapper}}
param_scheduler = {{_base_.demo.param_scheduler}}
train_cfg = {{_base_.demo.train_cfg}}
default_hooks = {{_base_.demo.default_hooks}}
