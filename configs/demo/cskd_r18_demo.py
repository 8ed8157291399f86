# Demo: CS-KD pretraining = the real ImageNet recipe
# (cskd_r50_imagenet.py) with the demo's data, schedule and network size
# (ResNet-18 at half width, 64 px, 20 classes).
# The train loader keeps the recipe's IntraClassSampler (one other image of
# the class after each image): 32 anchors + 32 partners per step, so an
# epoch has as many steps as the other demos' (32 images per step). The demo
# data has 2 or more training images per class (tools/make_demo_data.py).
_base_ = ['../cskd_r50_imagenet.py', './_base_/pretrain_demo.py']

model = dict(
    backbone={{_base_.demo.backbone}},
    head={{_base_.demo.head}},
    data_preprocessor={{_base_.demo.data_preprocessor}})
train_dataloader = dict(
    _delete_=True,
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    collate_fn=dict(type='default_collate'),
    sampler=dict(type='IntraClassSampler', num_partners=1, shuffle=True),
    dataset={{_base_.demo.train_dataloader.dataset}})
val_dataloader = {{_base_.demo.val_dataloader}}
test_dataloader = {{_base_.demo.test_dataloader}}
val_evaluator = {{_base_.demo.val_evaluator}}
test_evaluator = val_evaluator
optim_wrapper = {{_base_.demo.optim_wrapper}}
param_scheduler = {{_base_.demo.param_scheduler}}
train_cfg = {{_base_.demo.train_cfg}}
default_hooks = {{_base_.demo.default_hooks}}
