"""Checkpoints are written atomically (:func:`atomic_save_checkpoint`).

A checkpoint write killed midway never replaces a checkpoint or becomes
``last_checkpoint``; a failed write leaves the old file and no temporary
one; the file mode follows the umask; mmengine saves through this writer.
(tests/test_checkpoint_write.py covers CheckpointHook's kept checkpoints.)
"""
import os
import os.path as osp
import stat
import subprocess
import sys
import textwrap

import pytest
import torch

import mixskd_mm  # noqa: F401  (puts the writer into mmengine)
from mixskd_mm.engine import atomic_save_checkpoint

TIMEOUT = 300

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
