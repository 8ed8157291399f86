# Demo: Tf-KD-reg pretraining = the real ImageNet recipe
# (tfkd_r50_imagenet.py) with the demo's data, schedule and network size
# (ResNet-18 at half width, 64 px, 20 classes).
_base_ = ['../tfkd_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and size over the recipe's (pretrain_demo.py).
globals().update(_base_.demo)
