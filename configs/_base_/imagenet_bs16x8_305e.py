# ImageNet data, schedule and runtime of the released MixSKD ImageNet recipe
# (reference-methods.md section 1.8): 8 GPUs x 16 originals = 128 per step,
# SGD lr 0.1 (no linear scaling), momentum 0.9, wd 1e-4, no Nesterov,
# 5 warm-up epochs (per iteration), then cosine over the remaining 300.
# Every ImageNet recipe of this project (MixSKD, baselines, other methods)
# inherits it, so they share one schedule.
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
    # Linear warm-up from ~0, updated every iteration.
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=300,
        by_epoch=True,
        begin=5,
        end=305,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=305, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 0.1 is for 128 originals per step; `--auto-scale-lr` rescales it.
auto_scale_lr = dict(base_batch_size=128)
