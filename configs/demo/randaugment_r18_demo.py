# Demo: RandAugment pretraining = the real ImageNet recipe
# (randaugment_r50_imagenet.py) with the demo's data, schedule and network
# size (ResNet-18 at half width, 64 px, 20 classes).
# Kept of the method: torchvision RandAugment (N 2, M 9 of 31) before the crop.
_base_ = ['../randaugment_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and size over the recipe's (pretrain_demo.py).
globals().update(_base_.demo)

# The recipe's pipeline (RandAugment before the crop, on the loaded image)
# with the demo's crop in place of its own; RandAugment's translation is
# relative to the image size.
train_pipeline = [
    _base_.demo_crop if t.type == 'RandomResizedCrop' else t
    for t in _base_.train_pipeline
]
train_dataloader = dict(
    _base_.demo.train_dataloader,
    dataset=dict(
        _base_.demo.train_dataloader.dataset, pipeline=train_pipeline))
