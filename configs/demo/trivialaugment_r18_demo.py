# Demo: TrivialAugment pretraining = the real ImageNet recipe
# (trivialaugment_r50_imagenet.py) with the demo's data, schedule and network
# size (ResNet-18 at half width, 64 px, 20 classes).
# Kept of the method: torchvision TrivialAugmentWide after crop and flip.
_base_ = ['../trivialaugment_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and size over the recipe's (pretrain_demo.py).
globals().update(_base_.demo)

# The recipe's pipeline with the demo's crop in place of its own.
# torchvision fixes TrivialAugmentWide's largest translation at 32 px
# whatever the image size (no option to scale it): half the demo's side.
train_pipeline = [
    _base_.demo_crop if t.type == 'RandomResizedCrop' else t
    for t in _base_.train_pipeline
]
train_dataloader = dict(
    _base_.demo.train_dataloader,
    dataset=dict(
        _base_.demo.train_dataloader.dataset, pipeline=train_pipeline))
