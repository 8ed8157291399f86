# CIFAR-100 data, schedule and runtime of the released MixSKD CIFAR recipe
# (reference-methods.md section 1.8; Self-KD-Lib main_mixskd_cifar.py and
# utils.adjust_lr): one GPU, 64 originals per step, SGD lr 0.1, momentum
# 0.9, Nesterov, wd 5e-4, seed 0, 205 epochs:
# - epochs 0-4: linear warm-up updated every iteration, lr = 0.1 * (t + 1) /
#   (5 * iterations per epoch) at iteration t (LinearWarmupLR);
# - epochs 5-104: 0.1; epochs 105-154: 0.01; epochs 155-204: 0.001
#   (0-indexed). mmengine counts MultiStepLR milestones from the scheduler's
#   `begin`, so the milestones are 100 and 150 (the authors' values, which
#   they also count after the warm-up).
# tests/test_recipe_schedule.py checks every iteration of every CIFAR recipe
# against the authors' formula.
_base_ = [
    'mmpretrain::_base_/datasets/cifar100_bs16.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)

train_dataloader = dict(batch_size=64)
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True))
param_scheduler = [
    dict(
        type='LinearWarmupLR',
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    # Milestones count from `begin`: x0.1 at absolute epochs 105 and 155.
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=5,
        end=205,
        milestones=[100, 150],
        gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=205, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))
randomness = dict(seed=0)
