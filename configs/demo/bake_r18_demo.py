# Demo: BAKE pretraining = the real ImageNet recipe
# (bake_r50_imagenet.py) with the demo's data, schedule and network size
# (ResNet-18 at half width, 64 px, 20 classes).
# The train loader keeps the recipe's IntraClassSampler (one other image of
# the class after each image): 32 anchors + 32 partners per step, so an
# epoch has as many steps as the other demos' (32 images per step). The demo
# data has 2 or more training images per class (tools/make_demo_data.py).
_base_ = ['../bake_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and size over the recipe's (pretrain_demo.py).
globals().update(_base_.demo)

train_dataloader = dict(
    _base_.demo.train_dataloader,
    batch_size=64,
    sampler=dict(type='IntraClassSampler', num_partners=1, shuffle=True))
