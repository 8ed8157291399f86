# Demo: maximum-entropy pretraining = the real ImageNet recipe
# (maxent_r50_imagenet.py) with the demo's data, schedule and network
# size (ResNet-18 at half width, 64 px, 20 classes).
# Kept of the method: the head's MaxEntropyLoss (entropy weight 0.005).
_base_ = ['../maxent_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and size over the recipe's (pretrain_demo.py).
globals().update(_base_.demo)
