# Demo: PS-KD pretraining = the real ImageNet recipe
# (pskd_r50_imagenet.py) with the demo's data, schedule and network size
# (ResNet-18 at half width, 64 px, 20 classes). The store has a row for each
# image of the largest demo preset ('default': 320 x 20 classes).
_base_ = ['../pskd_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and size over the recipe's (pretrain_demo.py).
globals().update(_base_.demo)

model = dict(_base_.demo.model, num_samples=6400)
