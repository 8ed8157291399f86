# Demo: MIX-KD pretraining = the real ImageNet recipe
# (mixkd_r50_imagenet.py) with the demo's data, schedule and network
# size (ResNet-18 at half width, 64 px, 20 classes).
# The teacher is the demo's baseline ResNet-18 (_base_/pretrain_demo.py).
_base_ = ['../mixkd_r50_imagenet.py', './_base_/pretrain_demo.py']

# The demo's data, schedule and network size over the recipe's: every
# key of _base_/pretrain_demo.py's `demo` (model, loaders, evaluators,
# optimizer, schedule, hooks).
globals().update(_base_.demo)

model = dict(_base_.demo.model, teacher=_base_.demo_teacher)
