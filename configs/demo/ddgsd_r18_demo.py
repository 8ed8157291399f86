# Demo: DDGSD pretraining = the real ImageNet recipe
# (ddgsd_r50_imagenet.py) with the demo's data, schedule and network size
# (ResNet-18 at half width, 64 px, 20 classes). Its train loader is the
# demo's with the augmentation wrapped in MultiView (two views per image).
_base_ = ['../ddgsd_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and size over the recipe's (pretrain_demo.py).
globals().update(_base_.demo)

# The demo's crop and flip, as DDGSD's two views of each image.
train_dataloader = dict(
    _base_.demo.train_dataloader,
    dataset=dict(
        _base_.demo.train_dataloader.dataset,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='MultiView',
                 num_views=2,
                 transforms=[[
                     _base_.demo_crop,
                     dict(type='RandomFlip', prob=0.5,
                          direction='horizontal'),
                 ]]),
            dict(type='PackInputs'),
        ]))
