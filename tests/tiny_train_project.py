"""A tiny epoch-based classification project for tools/train.py subprocesses.

Shared by tests/test_checkpoint_write.py and tests/test_preemption.py: 32
JPEGs of 32x32 px in two classes, a ResNet-18 with 8 base channels, batches
of 4 (8 iterations an epoch), no random augmentation, shuffled
``DefaultSampler``, seed 0, a checkpoint every epoch with
``max_keep_ckpts=1``, and a test-only hook that records every batch's sample
indices (and can hold an iteration until a signal arrives).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / 'tools' / 'train.py'
ITERS_PER_EPOCH = 8
NUM_SAMPLES = 32

CONFIG = """\
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mixskd_mm', 'record_batches_hook'],
                      allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        num_classes=2, mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True),
    backbone=dict(
        type='ResNet', depth=18, stem_channels=8, base_channels=8,
        out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead', num_classes=2, in_channels=64,
        loss=dict(type='CrossEntropyLoss'), topk=(1, )))
train_dataloader = dict(
    batch_size=4, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root={data_root!r},
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='PackInputs')]))
train_cfg = dict(by_epoch=True, max_epochs=2)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[1])
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'))
custom_hooks = [dict(type='RecordBatchesHook', pause_at={pause_at!r})]
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
"""

HOOK = """\
import json
import os.path as osp
import time

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RecordBatchesHook(Hook):
    # Appends each iteration's epoch, iteration and sample indices to
    # <work_dir>/batches.jsonl. With pause_at=N, iteration N waits (up to
    # 120 s) until a PreemptionHook has received a signal, so the signal
    # lands in that iteration whatever the machine's speed.

    def __init__(self, pause_at=None):
        self.pause_at = pause_at

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        samples = [s.metainfo['sample_idx']
                   for s in data_batch['data_samples']]
        record = dict(epoch=runner.epoch, iter=runner.iter + 1,
                      batch_idx=batch_idx, samples=samples)
        with open(osp.join(runner.work_dir, 'batches.jsonl'), 'a') as f:
            f.write(json.dumps(record) + '\\n')
        if runner.iter + 1 != self.pause_at:
            return
        open(osp.join(runner.work_dir, 'paused'), 'w').close()
        hook = next(h for h in runner.hooks
                    if type(h).__name__ == 'PreemptionHook')
        deadline = time.monotonic() + 120
        while hook.received is None and time.monotonic() < deadline:
            time.sleep(0.02)
"""


def write_project(root: Path) -> Path:
    """Write the images, ``tiny.py``, ``tiny_pause<N>.py`` and the hook."""
    rng = np.random.default_rng(0)
    for label in ('a', 'b'):
        (root / 'data' / label).mkdir(parents=True)
        for i in range(NUM_SAMPLES // 2):
            pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            if label == 'a':
                pixels[:, :16] = 255
            Image.fromarray(pixels).save(root / 'data' / label / f'{i}.jpg')
    (root / 'record_batches_hook.py').write_text(HOOK)
    config(root, None)
    return root


def config(root: Path, pause_at) -> Path:
    """The config file whose record hook pauses at ``pause_at``."""
    name = 'tiny.py' if pause_at is None else f'tiny_pause{pause_at}.py'
    path = root / name
    if not path.exists():
        path.write_text(
            CONFIG.format(data_root=str(root / 'data'), pause_at=pause_at))
    return path


def train_cmd(config_path: Path, work_dir: Path, *args) -> list:
    """The tools/train.py command line."""
    return [sys.executable, str(TRAIN), str(config_path), '--work-dir',
            str(work_dir), *map(str, args)]


def env(root: Path) -> dict:
    """The environment: the record hook importable, one CPU thread."""
    full = {**os.environ, 'PYTHONPATH': os.pathsep.join(
        [str(root), str(ROOT), os.environ.get('PYTHONPATH', '')]),
        'OMP_NUM_THREADS': '1'}
    full.pop('LOCAL_RANK', None)
    return full


def run(cmd, root: Path, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd`` in ``root``; the output is in ``.stdout``."""
    return subprocess.run(
        cmd, cwd=root, env=env(root), text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=timeout, **kwargs)


def batches(work_dir: Path) -> list:
    """The records of ``batches.jsonl``, in the order written."""
    with open(work_dir / 'batches.jsonl') as f:
        return [json.loads(line) for line in f]
