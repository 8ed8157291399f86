# Demo: MIX-KD pretraining = the real ImageNet recipe
# (mixkd_r50_imagenet.py) with the demo's data, schedule and network
# size (ResNet-18 at half width, 64 px, 20 classes).
# The teacher is the demo's baseline ResNet-18 (_base_/pretrain_demo.py).
_base_ = ['../mixkd_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and size over the recipe's (pretrain_demo.py).
globals().update(_base_.demo)

model = dict(_base_.demo.model, teacher=_base_.demo_teacher)
