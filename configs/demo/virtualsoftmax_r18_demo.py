# Demo: Virtual Softmax pretraining = the real ImageNet recipe
# (virtualsoftmax_r50_imagenet.py) with the demo's data, schedule and network
# size (ResNet-18 at half width, 64 px, 20 classes).
# Kept of the method: the bias-free VirtualSoftmaxHead (virtual logit).
_base_ = ['../virtualsoftmax_r50_imagenet.py', './_base_/pretrain_demo.py']

model = dict(
    backbone={{_base_.demo.backbone}},
    # demo.head has no type and no loss: it merges into the recipe's head,
    # which keeps them, and sets only num_classes, in_channels and topk.
    head={{_base_.demo.head}},
    data_preprocessor={{_base_.demo.data_preprocessor}})
train_dataloader = {{_base_.demo.train_dataloader}}
val_dataloader = {{_base_.demo.val_dataloader}}
test_dataloader = {{_base_.demo.test_dataloader}}
val_evaluator = {{_base_.demo.val_evaluator}}
test_evaluator = val_evaluator
optim_wrapper = {{_base_.demo.optim_wrapper}}
param_scheduler = {{_base_.demo.param_scheduler}}
train_cfg = {{_base_.demo.train_cfg}}
default_hooks = {{_base_.demo.default_hooks}}
