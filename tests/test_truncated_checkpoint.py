"""A truncated or foreign checkpoint file is named, with its size and the fix.

torch says ``PytorchStreamReader failed reading zip archive: failed finding
central directory`` (or a bare ``EOFError``) and names no file. Every
reader here goes through :func:`mixskd_mm.checkpoint.safe_torch_load`
(mmengine's local loader is replaced in :mod:`mixskd_mm.compat`), which
raises :func:`mixskd_mm.checkpoint.unreadable_checkpoint`'s error:
``tools/test.py CHECKPOINT``, ``tools/train.py`` with ``load_from=`` and
with ``--resume CKPT`` (subprocesses, the demo's baseline config on a tiny
generated set), and ``tools/export_backbone.py``.
"""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

import mixskd_mm  # noqa: F401  (registers the loaders)
from mixskd_mm.checkpoint import CheckpointFormatError, safe_torch_load
from mixskd_mm.demo.data import write_classification_set

from repo import ROOT

CONFIG = osp.join(ROOT, 'configs', 'demo', 'baseline_r18_demo.py')
TIMEOUT = 600
FIX = ('The file is truncated, corrupt or not a PyTorch checkpoint (a save '
       'or copy that was cut short, or a full disk). Fix: save, export or '
       'copy it again, or pick an earlier checkpoint')


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """The demo's 20-class set, one 32 px image per class and split."""
    root = tmp_path_factory.mktemp('cls')
    write_classification_set(root, num_per_class_train=1,
                             num_per_class_val=1, image_size=32)
    return str(root)


def _cut(path, fraction=0.5):
    """Save a checkpoint to ``path`` and keep its first ``fraction``."""
    torch.save(dict(state_dict=dict(w=torch.zeros(5000)), meta=dict()),
               str(path))
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    return str(path), path.stat().st_size


def _named(path, size, stderr):
    """Whether the last line of ``stderr`` names the file and its size.

    What torch said comes between them and the fix; it depends on where
    the file was cut (no zip directory: ``RuntimeError: PytorchStreamReader
    failed reading zip archive``; a directory but cut records: ``OSError``).
    """
    last = stderr.strip().splitlines()[-1]
    return (last.startswith(
        'mixskd_mm.checkpoint.errors.CheckpointFormatError: cannot read '
        f"checkpoint '{path}' ({size} bytes): ") and FIX in last)


def _run(tool, *args, data, options=()):
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    options = list(options)
    options += [f'{loader}.dataset.data_root={data}' for loader in loaders]
    options += [f'{loader}.batch_size=4' for loader in loaders]
    return subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', tool), CONFIG, *args,
         '--cfg-options', *options],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)


def test_test_py_names_a_truncated_checkpoint(tmp_path, data):
    path, size = _cut(tmp_path / 'epoch_4.pth')
    proc = _run('test.py', path, '--work-dir', str(tmp_path / 'w'),
                data=data)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert _named(path, size, proc.stderr), proc.stderr[-3000:]


@pytest.mark.parametrize('how', ['load_from', 'resume'])
def test_train_py_names_a_truncated_checkpoint(tmp_path, data, how):
    path, size = _cut(tmp_path / 'epoch_2.pth')
    work = ['--work-dir', str(tmp_path / 'w')]
    args = work + (['--resume', path] if how == 'resume' else [])
    options = [f'load_from={path}'] if how == 'load_from' else []
    proc = _run('train.py', *args, data=data, options=options)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert _named(path, size, proc.stderr), proc.stderr[-3000:]
    assert not osp.exists(tmp_path / 'w' / 'epoch_1.pth')  # nothing trained


@pytest.mark.parametrize('content,what', [
    (b'', '0 bytes, empty): EOFError.'),
    (b'<html>404 Not Found</html>', '26 bytes): '),
])
def test_empty_and_foreign_files_are_named(tmp_path, content, what):
    path = tmp_path / 'ckpt.pth'
    path.write_bytes(content)
    for load in (safe_torch_load, _load_checkpoint):
        with pytest.raises(CheckpointFormatError) as info:
            load(str(path))
        assert str(info.value).startswith(
            f"cannot read checkpoint '{path}' ({what}"), str(info.value)
        assert FIX in str(info.value)


def test_legacy_format_cut_is_named(tmp_path):
    path = tmp_path / 'old.pth'
    torch.save(dict(w=torch.zeros(100)), str(path),
               _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes()[:300])
    # torch's legacy unpickler ends a cut file with IndexError (a record
    # cut inside) or EOFError (cut between records).
    with pytest.raises(CheckpointFormatError,
                       match=r"old.pth' \(300 bytes\): (IndexError|EOFError)"):
        _load_checkpoint(str(path))


def test_errors_of_a_sound_file_pass_through(tmp_path):
    # A complete checkpoint that fails for another reason (here a
    # map_location that raises, as a CUDA one does without a GPU) is not
    # called truncated.
    path = tmp_path / 'ok.pth'
    torch.save(dict(w=torch.zeros(3)), str(path))

    def no_gpu(storage, location):
        raise RuntimeError('Attempting to deserialize object on a CUDA '
                           'device')

    with pytest.raises(RuntimeError, match='deserialize object on a CUDA') \
            as info:
        safe_torch_load(str(path), map_location=no_gpu)
    assert not isinstance(info.value, CheckpointFormatError)
