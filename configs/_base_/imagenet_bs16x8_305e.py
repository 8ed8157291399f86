# ImageNet data, schedule and runtime of the released MixSKD ImageNet recipe
# (reference-methods.md section 1.8; Self-KD-Lib
# scripts/main_mixskd_imagenet.sh and adjust_lr in main_mixskd_imagenet.py):
# 8 GPUs x 16 originals = 128 per step, SGD lr 0.1 (no linear scaling),
# momentum 0.9, wd 1e-4, no Nesterov, seed 0, 305 epochs:
# - epochs 0-4: linear warm-up updated every iteration, lr = 0.1 * (t + 1) /
#   (5 * iterations per epoch) at iteration t (LinearWarmupLR);
# - epochs 5-304: cosine set once per epoch (as the authors' adjust_lr),
#   lr = 0.05 * (1 + cos(pi * (epoch - 5) / 300)), 0-indexed epochs.
# Every ImageNet recipe of this project (MixSKD, baselines, other methods)
# inherits it, so they share one schedule; tests/test_recipe_schedule.py
# checks every iteration against the authors' formula.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)

train_dataloader = dict(batch_size=16)
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=False))
param_scheduler = [
    dict(
        type='LinearWarmupLR',
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    # Per epoch, not per iteration: the authors set the lr once an epoch.
    dict(
        type='CosineAnnealingLR',
        T_max=300,
        eta_min=0.0,
        by_epoch=True,
        begin=5,
        end=305),
]
train_cfg = dict(by_epoch=True, max_epochs=305, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 0.1 is for 128 originals per step; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(base_batch_size=128)
# The authors' script seeds numpy and torch with --manual_seed 0.
randomness = dict(seed=0)
