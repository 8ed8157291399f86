# CIFAR-100 data, schedule and runtime of the released MixSKD CIFAR recipe
# (reference-methods.md section 1.8): one GPU, 64 originals per step, SGD
# lr 0.1, momentum 0.9, Nesterov, wd 5e-4, 5 warm-up epochs, then x0.1 at
# epochs 105 and 155 (100 and 150 after warm-up), 205 epochs in all.
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
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        begin=5,
        end=205,
        milestones=[105, 155],
        gamma=0.1),
]
train_cfg = dict(by_epoch=True, max_epochs=205, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))
randomness = dict(seed=0)
