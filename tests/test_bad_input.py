"""Bad input is named with its fix; checkpoints survive a kill.

- An empty ``meta/train.txt`` raises ``EmptyDatasetError`` naming the file
  (mmengine alone: ``ValueError: need at least one array to concatenate``).
- ``--resume`` with nothing to resume says that training starts from
  scratch and why (ResumeCheckHook).
- A checkpoint write killed midway never replaces a checkpoint or becomes
  ``last_checkpoint``; the file mode follows the umask.
- A zero-byte or truncated image raises ``UnreadableImageError`` naming the
  file, the reason and the fix (mmcv alone: a ``cv2.error`` naming no file);
  ``ignore_empty=True`` on ``LoadImageFromFile`` skips it with a warning and
  a count. Through the real dataset class and pipeline and through
  tools/train.py.
"""
import os
import os.path as osp
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from mmpretrain.datasets import CustomDataset
from PIL import Image

import mixskd_mm  # noqa: F401  (applies the guards)
from mixskd_mm.datasets import (EmptyDatasetError, UnreadableImageError,
                                skipped_images)
from mixskd_mm.datasets import unreadable_images
from mixskd_mm.engine import atomic_save_checkpoint, resume_problem

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300
N = 6

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
randomness = dict(seed=0)
"""


def write_set(root: Path, broken: str = '', empty_meta: bool = False):
    """``N`` 24-px images of two classes; image 3 broken as asked.

    Args:
        root (Path): Where to write ``train/`` and ``meta/train.txt``.
        broken (str): '' (none), 'zero.png' (0 bytes), 'cut.png' or
            'cut.jpg' (first 60 % of a valid file).
        empty_meta (bool): Write an empty ``meta/train.txt``.

    Returns:
        Path: The broken file, or None.
    """
    rng = np.random.default_rng(0)
    (root / 'train').mkdir(parents=True, exist_ok=True)
    (root / 'meta').mkdir(exist_ok=True)
    lines, bad = [], None
    for i in range(N):
        ext = broken.split('.')[-1] if i == 3 and broken else 'png'
        path = root / 'train' / f'{i}.{ext}'
        Image.fromarray(rng.integers(0, 256, (24, 24, 3),
                                     dtype=np.uint8)).save(path)
        if i == 3 and broken:
            data = path.read_bytes()
            path.write_bytes(b'' if broken.startswith('zero') else
                             data[:int(len(data) * 0.6)])
            bad = path
        lines.append(f'{i}.{ext} {i % 2}')
    (root / 'meta' / 'train.txt').write_text(
        '' if empty_meta else '\n'.join(lines) + '\n')
    return bad


def dataset(root: Path, ignore_empty: bool = False, test_mode=False):
    return CustomDataset(
        data_root=str(root), ann_file='meta/train.txt', data_prefix='train',
        test_mode=test_mode,
        pipeline=[dict(type='LoadImageFromFile', ignore_empty=ignore_empty),
                  dict(type='PackInputs')])


def train_py(tmp_path: Path, *args):
    config = tmp_path / 'tiny.py'
    config.write_text(CONFIG.format(data_root=str(tmp_path / 'data')))
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'train.py'), str(config),
         '--work-dir', str(tmp_path / 'work'), *args],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=TIMEOUT)


# --------------------------------------------------------------------------
# Empty annotation file
# --------------------------------------------------------------------------
def test_an_empty_ann_file_is_named(tmp_path):
    write_set(tmp_path, empty_meta=True)
    with pytest.raises(EmptyDatasetError) as info:
        dataset(tmp_path)
    msg = str(info.value)
    assert msg.startswith(
        f'CustomDataset has no samples: its annotation file '
        f'{tmp_path / "meta" / "train.txt"} is empty: it lists no images.')
    assert 'Fix: write the samples into it' in msg
    assert isinstance(info.value, ValueError)  # what mmengine raised


def test_train_py_names_an_empty_ann_file(tmp_path):
    write_set(tmp_path / 'data', empty_meta=True)
    proc = train_py(tmp_path)
    assert proc.returncode != 0
    assert ('EmptyDatasetError: CustomDataset has no samples: its '
            f'annotation file {tmp_path / "data" / "meta" / "train.txt"} is '
            'empty: it lists no images.') in proc.stderr
    assert 'need at least one array' not in proc.stderr


def test_a_dataset_with_samples_still_builds(tmp_path):
    write_set(tmp_path)
    assert len(dataset(tmp_path)) == N


# --------------------------------------------------------------------------
# Unreadable images
# --------------------------------------------------------------------------
REASONS = {
    'zero.png': 'is empty (0 bytes)',
    'cut.png': 'cannot be decoded as an image (truncated or corrupt',
    'cut.jpg': 'cannot be decoded as an image (truncated or corrupt',
}


@pytest.mark.parametrize('broken', sorted(REASONS))
def test_an_unreadable_image_is_named_with_the_fix(tmp_path, broken):
    bad = write_set(tmp_path, broken)
    ds = dataset(tmp_path)
    assert ds[2]['inputs'].shape == (3, 24, 24)  # the good ones load
    with pytest.raises(UnreadableImageError) as info:
        ds[3]
    msg = str(info.value)
    assert msg.startswith(f'cannot read image {bad}: the file '
                          f'{REASONS[broken]}')
    assert 'Fix: replace or delete the file' in msg
    assert 'train_dataloader.dataset.pipeline.0.ignore_empty=True' in msg


def test_a_missing_image_is_named(tmp_path):
    write_set(tmp_path)
    (tmp_path / 'train' / '1.png').unlink()
    with pytest.raises(UnreadableImageError, match='1.png: the file does '
                       'not exist'):
        dataset(tmp_path)[1]


@pytest.mark.parametrize('broken', sorted(REASONS))
def test_ignore_empty_skips_with_a_warning_and_a_count(tmp_path, broken,
                                                       monkeypatch):
    bad = write_set(tmp_path, broken)
    logged = []
    monkeypatch.setattr(unreadable_images, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    before = len(skipped_images())
    ds = dataset(tmp_path, ignore_empty=True)
    ds._rand_another = lambda: 4  # mmengine's refetch, made deterministic
    sample = ds[3]
    assert sample['inputs'].shape == (3, 24, 24)  # another sample instead
    assert sample['data_samples'].img_path == str(tmp_path / 'train/4.png')
    assert skipped_images()[before:] == [str(bad)]
    (msg, kw), = logged
    assert msg.startswith(f'skipped unreadable image {bad}: the file '
                          f'{REASONS[broken]}')
    assert f'{before + 1} skipped so far' in msg
    assert kw['level'] == 30  # logging.WARNING


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmdet', 'mmseg'])
def test_every_scope_loads_through_the_guard(tmp_path, scope):
    """The LoadImageFromFile of the mmdet and mmseg configs is guarded."""
    import importlib
    transforms = importlib.import_module(f'{scope}.registry').TRANSFORMS
    loader = transforms.build(dict(type='LoadImageFromFile'))
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    with pytest.raises(UnreadableImageError, match='empty.jpg: the file is '
                       r'empty \(0 bytes\)'):
        loader(dict(img_path=str(empty)))


def test_an_unreadable_label_map_of_mmseg_is_named(tmp_path):
    from mmseg.registry import TRANSFORMS
    loader = TRANSFORMS.build(dict(type='LoadAnnotations'))
    good = tmp_path / 'good.png'
    Image.fromarray(np.eye(8, dtype=np.uint8)).save(good)
    out = loader(dict(seg_map_path=str(good), reduce_zero_label=False,
                      seg_fields=[]))
    assert out['gt_seg_map'].shape == (8, 8)
    cut = tmp_path / 'cut.png'
    cut.write_bytes(good.read_bytes()[:40])
    with pytest.raises(UnreadableImageError, match='cannot read label map '
                       f'{cut}: the file cannot be decoded'):
        loader(dict(seg_map_path=str(cut), reduce_zero_label=False,
                    seg_fields=[]))
    # an error that is not about the file passes through unchanged
    with pytest.raises(KeyError, match='reduce_zero_label'):
        loader(dict(seg_map_path=str(good), seg_fields=[]))


def test_train_py_names_an_unreadable_image(tmp_path):
    bad = write_set(tmp_path / 'data', 'zero.png')
    proc = train_py(tmp_path)
    assert proc.returncode != 0
    assert (f'UnreadableImageError: cannot read image {bad}: the file is '
            'empty (0 bytes)') in proc.stderr
    assert 'imdecode_' not in proc.stderr.splitlines()[-1]


def test_train_py_skips_unreadable_images_on_request(tmp_path):
    bad = write_set(tmp_path / 'data', 'cut.jpg')
    proc = train_py(tmp_path, '--cfg-options',
                    'train_dataloader.dataset.pipeline.0.ignore_empty=True')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert out.count(f'skipped unreadable image {bad}') == 1
    assert '(ignore_empty=True; 1 skipped so far in this process)' in out


# --------------------------------------------------------------------------
# ResumeCheckHook
# --------------------------------------------------------------------------
def test_resume_with_nothing_to_resume_says_so(tmp_path):
    write_set(tmp_path / 'data')
    proc = train_py(tmp_path, '--resume')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    work = tmp_path / 'work'
    assert (f'--resume: nothing to resume, so training starts from '
            f'scratch: the work_dir {work} has no last_checkpoint file') in out
    assert out.index('training starts from scratch') < out.index(
        'Auto resumed from the latest checkpoint None')


def test_resume_names_checkpoints_left_without_last_checkpoint(tmp_path):
    torch.save({}, tmp_path / 'iter_1.pth')
    msg = resume_problem(str(tmp_path))
    assert 'training starts from scratch' in msg
    assert f'--resume {tmp_path / "iter_1.pth"}' in msg
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_1.pth'))
    assert resume_problem(str(tmp_path)) is None


def test_resume_refuses_a_last_checkpoint_that_is_gone(tmp_path):
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_9.pth'))
    with pytest.raises(FileNotFoundError, match='iter_9.pth, which does not '
                       'exist'):
        resume_problem(str(tmp_path))


# --------------------------------------------------------------------------
# Atomic checkpoints
# --------------------------------------------------------------------------
KILL_MIDWRITE = textwrap.dedent("""\
    import builtins, os, signal, sys
    import torch
    import mixskd_mm  # noqa: F401
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    real_open = builtins.open

    class Cut:
        # A file that the OS kills the process in, after 200 bytes.
        def __init__(self, f):
            self.f, self.n = f, 0
        def write(self, b):
            if self.n + len(b) > 200:
                self.f.write(bytes(b)[:200 - self.n])
                self.f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            self.n += len(b)
            return self.f.write(b)
        def __getattr__(self, name):
            return getattr(self.f, name)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()

    def cutting_open(path, mode='r', *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        return Cut(f) if 'iter_2.pth' in str(path) and 'w' in mode else f

    builtins.open = cutting_open

    class Toy(BaseModel):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(4096))
        def forward(self, inputs, mode='loss'):
            return dict(loss=(self.w * inputs[0]).sum())

    Runner(model=Toy(), work_dir=sys.argv[1],
           train_dataloader=dict(
               dataset=[dict(inputs=torch.ones(1))] * 4, batch_size=1,
               collate_fn=dict(type='pseudo_collate'),
               sampler=dict(type='DefaultSampler', shuffle=False)),
           optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
           train_cfg=dict(by_epoch=False, max_iters=3),
           default_hooks=dict(checkpoint=dict(
               type='CheckpointHook', by_epoch=False, interval=1)),
           default_scope='mmengine').train()
""")


def test_a_checkpoint_write_killed_midway_never_becomes_last(tmp_path):
    script = tmp_path / 'kill.py'
    script.write_text(KILL_MIDWRITE)
    work = tmp_path / 'work'
    proc = subprocess.run([sys.executable, str(script), str(work)],
                          capture_output=True, text=True, timeout=TIMEOUT,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == -9, proc.stderr[-2000:]  # killed mid-write
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_1.pth')
    ckpt = torch.load(work / 'iter_1.pth', weights_only=False)
    assert ckpt['meta']['iter'] == 1
    # the cut bytes sit in a hidden temporary file, never under the name
    assert not (work / 'iter_2.pth').exists()
    leftovers = [p.name for p in work.iterdir() if p.name.endswith('.tmp')]
    assert len(leftovers) == 1 and leftovers[0].startswith('.iter_2.pth.')


def test_checkpoint_mode_follows_the_umask_and_replaces(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / 'sub' / 'epoch_1.pth'
        atomic_save_checkpoint({'a': torch.ones(2)}, str(target))
        atomic_save_checkpoint({'a': torch.zeros(3)}, str(target))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert torch.equal(torch.load(target)['a'], torch.zeros(3))
    assert sorted(p.name for p in target.parent.iterdir()) == ['epoch_1.pth']


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path,
                                                             monkeypatch):
    target = tmp_path / 'epoch_1.pth'
    atomic_save_checkpoint({'a': torch.ones(2)}, str(target))

    def broken_save(obj, f, *args, **kwargs):
        f.write(b'partial')
        raise OSError('disk full')

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        atomic_save_checkpoint({'a': torch.zeros(2)}, str(target))
    monkeypatch.undo()
    assert torch.equal(torch.load(target)['a'], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ['epoch_1.pth']


def test_mmengine_saves_through_the_atomic_writer():
    from mmengine import runner as mm_runner
    from mmengine.runner import checkpoint, runner
    for module in (mm_runner, checkpoint, runner):
        assert module.save_checkpoint is atomic_save_checkpoint
    assert osp.basename(atomic_save_checkpoint.__wrapped__.__code__
                        .co_filename) == 'checkpoint.py'
