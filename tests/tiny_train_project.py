"""Tiny two-class classification projects for tools/train.py subprocesses.

Every config here trains :data:`MODEL`, an mmpretrain ResNet-18 with 8 base
and stem channels on two classes.

- :func:`write_project` (tests/test_checkpoint_write.py,
  tests/test_preemption.py): 32 JPEGs of 32x32 px in two class folders,
  batches of 4 (8 iterations an epoch), no random augmentation, shuffled
  ``DefaultSampler``, seed 0, a checkpoint every epoch with
  ``max_keep_ckpts=1``, and a test-only hook that records every batch's
  sample indices (and can hold an iteration until a signal arrives).
- :func:`write_image_set`, :func:`write_config` and :func:`train_py`
  (tests/test_bad_dataset_input.py, test_resume_input.py,
  test_label_range.py, test_runtime_guards.py): PNGs listed with their labels
  in ``meta/train.txt``, a config whose schedule the test picks, and a
  tools/train.py run whose stdout and stderr stay apart.
"""
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
from PIL import Image

from repo import ROOT, TOOLS

TRAIN = TOOLS / 'train.py'
ITERS_PER_EPOCH = 8
NUM_SAMPLES = 32
TIMEOUT = 300

MODEL = """\
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
"""

CONFIG = """\
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mixskd_mm', 'record_batches_hook'],
                      allow_failed_imports=False)
""" + MODEL + """\
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


def write_class_folders(data_root: Path, per_class: int):
    """Class folders ``a/`` and ``b/`` of ``per_class`` 32x32 JPEGs each;
    class 'a' has a white left half."""
    rng = np.random.default_rng(0)
    for label in ('a', 'b'):
        (data_root / label).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            if label == 'a':
                pixels[:, :16] = 255
            Image.fromarray(pixels).save(data_root / label / f'{i}.jpg')


def write_project(root: Path) -> Path:
    """Write the images, ``tiny.py``, ``tiny_pause<N>.py`` and the hook."""
    write_class_folders(root / 'data', NUM_SAMPLES // 2)
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


# ---------------------------------------------- annotated sets, any schedule
#: One epoch, SGD 0.01, a log line every iteration, no checkpoints, seed 0.
ONE_EPOCH = """\
train_cfg = dict(by_epoch=True, max_epochs=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
default_hooks = dict(logger=dict(type='LoggerHook', interval=1),
                     checkpoint=None)
randomness = dict(seed=0)
"""

ANNOTATED_CONFIG = """\
default_scope = 'mmpretrain'
""" + MODEL + """\
train_dataloader = dict(
    batch_size={batch_size}, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root={data_root!r},
                 ann_file='meta/train.txt', data_prefix='train',
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='PackInputs')]))
"""


def write_image_set(root: Path,
                    labels: Sequence[int],
                    size: int = 24,
                    names: Optional[List[str]] = None) -> Path:
    """Random ``size`` px images ``root/train/<name>``, listed with their
    labels in ``root/meta/train.txt``.

    Args:
        root (Path): Where to write ``train/`` and ``meta/``.
        labels (Sequence[int]): One class label per image.
        size (int): Height and width in pixels.
        names (list[str], optional): The file names; ``<i>.png`` if None.
            The suffix picks the format.

    Returns:
        Path: ``root``.
    """
    names = names or [f'{i}.png' for i in range(len(labels))]
    rng = np.random.default_rng(0)
    (root / 'train').mkdir(parents=True, exist_ok=True)
    (root / 'meta').mkdir(exist_ok=True)
    for name in names:
        Image.fromarray(rng.integers(0, 256, (size, size, 3),
                                     dtype=np.uint8)).save(root / 'train' /
                                                           name)
    (root / 'meta' / 'train.txt').write_text(''.join(
        f'{name} {label}\n' for name, label in zip(names, labels)))
    return root


def write_config(path: Path,
                 data_root: Path,
                 batch_size: int = 2,
                 schedule: str = ONE_EPOCH) -> Path:
    """A config of :data:`MODEL` on the set at ``data_root``
    (:func:`write_image_set`), unshuffled, then ``schedule`` (config lines:
    ``train_cfg``, ``optim_wrapper``, ``default_hooks`` ...)."""
    path.write_text(
        ANNOTATED_CONFIG.format(data_root=str(data_root),
                                batch_size=batch_size) + schedule)
    return path


def train_py(tmp_path: Path, *args) -> subprocess.CompletedProcess:
    """Run tools/train.py on ``tmp_path/tiny.py`` (:func:`write_config`)
    with work dir ``tmp_path/work``, in ``tmp_path``, on one CPU thread.

    Returns:
        CompletedProcess: finished, with ``.stdout`` and ``.stderr`` apart.
    """
    return subprocess.run(
        train_cmd(tmp_path / 'tiny.py', tmp_path / 'work', *args),
        cwd=str(tmp_path), env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=TIMEOUT)
