# Demo: label-smoothing pretraining = the real ImageNet recipe
# (labelsmooth_r50_imagenet.py) with the demo's data, schedule and network
# size (ResNet-18 at half width, 64 px, 20 classes).
# Kept of the method: LabelSmoothLoss, true class 0.9, others 0.1 / (C - 1).
_base_ = ['../labelsmooth_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and size over the recipe's (pretrain_demo.py).
globals().update(_base_.demo)

# The recipe's eps' = 0.1 * C / (C - 1) is set for C = 1000 classes;
# recomputed for the demo's C = 20 so that the target stays 0.9 for the true
# class and 0.1 / 19 for each other one (merged into the recipe's
# LabelSmoothLoss).
model = dict(
    _base_.demo.model,
    head=dict(
        _base_.demo.model.head, loss=dict(label_smooth_val=0.1 * 20 / 19)))
