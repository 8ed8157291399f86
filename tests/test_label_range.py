"""Class labels outside the model's classes are named before training."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mixskd_mm.datasets import LabelOutOfRangeError, check_class_labels

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """\
default_scope = 'mmpretrain'
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        num_classes=2, mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True),
    backbone=dict(type='ResNet', depth=18, stem_channels=8,
                  base_channels=8, out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=2, in_channels=64,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
train_dataloader = dict(
    batch_size=2, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root={data_root!r},
                 ann_file='meta/train.txt', data_prefix='train',
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='PackInputs')]))
train_cfg = dict(by_epoch=True, max_epochs=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
default_hooks = dict(logger=dict(type='LoggerHook', interval=1),
                     checkpoint=None)
"""


def write_set(root: Path, labels):
    """24-px images with the given labels and their ``meta/train.txt``."""
    (root / 'train').mkdir(parents=True)
    (root / 'meta').mkdir()
    rng = np.random.default_rng(0)
    for i in range(len(labels)):
        Image.fromarray(rng.integers(0, 256, (24, 24, 3),
                                     dtype=np.uint8)).save(
                                         root / 'train' / f'{i}.png')
    (root / 'meta' / 'train.txt').write_text(''.join(
        f'{i}.png {label}\n' for i, label in enumerate(labels)))


def build(root: Path):
    from mmpretrain.datasets import CustomDataset
    return CustomDataset(data_root=str(root), ann_file='meta/train.txt',
                         data_prefix='train', pipeline=[])


def test_a_label_out_of_range_names_file_line_and_range(tmp_path):
    write_set(tmp_path, [0, 1, 0, 99, 1, 7])
    with pytest.raises(LabelOutOfRangeError) as info:
        check_class_labels(build(tmp_path), 2, 'train')
    msg = str(info.value)
    ann = tmp_path / 'meta' / 'train.txt'
    assert f"label 99 at {ann}:4: '3.png 99'" in msg
    assert "classes 0..1 (model.head.num_classes=2)" in msg
    assert '2 of 6 samples' in msg and 'Fix:' in msg


def test_labels_in_range_pass(tmp_path):
    write_set(tmp_path, [0, 1, 1, 0])
    check_class_labels(build(tmp_path), 2, 'train')
    # And the last class is in range; one fewer class makes it out.
    with pytest.raises(LabelOutOfRangeError, match="label 1 at .*:2: "):
        check_class_labels(build(tmp_path), 1, 'val')


def test_train_py_names_the_bad_line_before_the_first_step(tmp_path):
    write_set(tmp_path / 'data', [0, 1, 0, 99])
    config = tmp_path / 'tiny.py'
    config.write_text(CONFIG.format(data_root=str(tmp_path / 'data')))
    proc = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'train.py'), str(config),
         '--work-dir', str(tmp_path / 'work')],
        cwd=str(tmp_path), env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert 'LabelOutOfRangeError: train dataset: label 99 at ' in err
    assert "train.txt:4: '3.png 99'" in err
    assert 'Target 99 is out of bounds' not in err
    assert 'Epoch(train)' not in err  # stopped before the first step
