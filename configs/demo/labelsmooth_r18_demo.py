# Demo: label-smoothing pretraining = the real ImageNet recipe
# (labelsmooth_r50_imagenet.py) with the demo's data, schedule and network
# size (ResNet-18 at half width, 64 px, 20 classes).
# Kept of the method: LabelSmoothLoss, true class 0.9, others 0.1 / (C - 1).
_base_ = ['../labelsmooth_r50_imagenet.py', './_base_/pretrain_demo.py']

model = dict(
    backbone={{_base_.demo.backbone}},
    # Merged into the recipe's head (its type and LabelSmoothLoss stay).
    head=dict(
        num_classes={{_base_.demo.head.num_classes}},
        in_channels={{_base_.demo.head.in_channels}},
        topk={{_base_.demo.head.topk}},
        # The recipe's eps' = 0.1 * C / (C - 1) is set for C = 1000 classes;
        # recomputed for the demo's C = 20 so that the target stays 0.9 for
        # the true class and 0.1 / 19 for each other one.
        loss=dict(label_smooth_val=0.1 * 20 / 19)),
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
