# Demo: Cutout pretraining = the real ImageNet recipe
# (cutout_r50_imagenet.py) with the demo's data, schedule and network
# size (ResNet-18 at half width, 64 px, 20 classes).
# Kept of the method: Cutout after crop and flip, mean fill, 16 px (side / 4).
_base_ = ['../cutout_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and size over the recipe's (pretrain_demo.py).
globals().update(_base_.demo)

# The recipe's pipeline with the demo's crop in place of its own; Cutout's
# square scales with the side: 56 px of 224 -> 16 px of 64.
train_pipeline = [
    _base_.demo_crop if t.type == 'RandomResizedCrop' else
    dict(t, shape=16) if t.type == 'Cutout' else t
    for t in _base_.train_pipeline
]
train_dataloader = dict(
    _base_.demo.train_dataloader,
    dataset=dict(
        _base_.demo.train_dataloader.dataset, pipeline=train_pipeline))
