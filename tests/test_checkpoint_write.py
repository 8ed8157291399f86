"""A checkpoint write that fails part-way loses nothing.

mmengine's CheckpointHook removed the kept checkpoint before writing the
next; with ``max_keep_ckpts=1`` a failed write left none. tools/train.py
trains the tiny project of tests/tiny_train_project.py for 2 epochs, then
resumes it for a 3rd under a 300 KB file-size limit (``ulimit -f``, as the
issue's reproduction), so the write of ``epoch_3.pth`` (about 1.4 MB) fails
part-way with EFBIG.
"""
import os.path as osp
import resource
import shutil
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from mmengine.runner.checkpoint import _load_checkpoint

from mixskd_mm.engine import SafeCheckpointHook, use_safe_checkpoint_hook

import tiny_train_project as tiny

LIMIT = 300 * 1024


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


@pytest.fixture(scope='module')
def two_epochs(tmp_path_factory):
    root = tiny.write_project(tmp_path_factory.mktemp('ckpt'))
    work_dir = root / 'work'
    proc = tiny.run(tiny.train_cmd(tiny.config(root, None), work_dir), root)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return root, work_dir, proc.stdout


def test_configs_checkpoint_hook_becomes_the_safe_one(two_epochs):
    _, work_dir, log = two_epochs
    assert 'default_hooks.checkpoint: SafeCheckpointHook' in log
    # max_keep_ckpts=1 still rotates: epoch_1.pth went once epoch_2 was in.
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_2.pth']
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / 'epoch_2.pth')


def test_failed_write_keeps_the_last_good_checkpoint(two_epochs, tmp_path):
    root, first, _ = two_epochs
    work_dir = tmp_path / 'work'
    shutil.copytree(first, work_dir)
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_2.pth'))
    proc = tiny.run(
        tiny.train_cmd(tiny.config(root, None), work_dir, '--resume',
                       '--cfg-options', 'train_cfg.max_epochs=3'),
        root, preexec_fn=_limit_file_size)
    log = proc.stdout
    assert proc.returncode != 0, log[-3000:]
    assert 'Saving checkpoint at 3 epochs' in log
    assert 'File too large' in log or 'inline_container' in log, log[-3000:]
    # The failed write left nothing under the final name nor a temp file.
    assert sorted(p.name for p in work_dir.iterdir() if p.suffix in (
        '.pth', '.tmp')) == ['epoch_2.pth']
    assert (work_dir / 'last_checkpoint').read_text() == str(
        work_dir / 'epoch_2.pth')
    ckpt = _load_checkpoint(str(work_dir / 'epoch_2.pth'), 'cpu')
    assert ckpt['meta']['epoch'] == 2
    assert ckpt['message_hub']['runtime_info']['keep_ckpt_ids'] == [2]


def test_use_safe_checkpoint_hook_keeps_arguments_and_other_types():
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(
        type='mmengine.CheckpointHook', interval=3, max_keep_ckpts=2,
        published_keys=['meta', 'state_dict']))))
    use_safe_checkpoint_hook(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type='SafeCheckpointHook', interval=3, max_keep_ckpts=2,
        published_keys=['meta', 'state_dict'])
    own = Config(dict(default_hooks=dict(checkpoint=dict(type='MyHook'))))
    assert use_safe_checkpoint_hook(own).default_hooks.checkpoint == dict(
        type='MyHook')
    off = Config(dict(default_hooks=dict(checkpoint=None)))
    assert use_safe_checkpoint_hook(off).default_hooks.checkpoint is None


class _Hub:

    def __init__(self):
        self.runtime_info = {}

    def update_info(self, key, value):
        self.runtime_info[key] = value

    def get_info(self, key):
        return self.runtime_info[key]


class _Runner:
    """What the hook uses of a Runner; ``save_checkpoint`` writes a file
    or, once ``fail`` is set, raises as a full disk would."""

    def __init__(self, work_dir):
        self.work_dir = str(work_dir)
        self.message_hub = _Hub()
        self.logger = SimpleNamespace(info=lambda msg: None,
                                      warning=lambda msg: None)
        self.epoch, self.iter, self.fail = 0, 0, False

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        if self.fail:
            raise OSError(27, 'File too large')
        with open(osp.join(out_dir, filename), 'w') as f:
            f.write(filename)


def test_best_checkpoint_replaced_only_after_the_new_one(tmp_path):
    """save_best: mmengine removed the previous best before the write."""
    hook = SafeCheckpointHook(interval=1, max_keep_ckpts=1, save_best='acc')
    runner = _Runner(tmp_path)
    hook.before_train(runner)
    for epoch, acc in ((1, 0.5), (2, 0.7)):
        runner.epoch = epoch
        hook._save_checkpoint_with_step(runner, epoch, dict(epoch=epoch))
        hook._save_best_checkpoint(runner, dict(acc=acc))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'best_acc_epoch_2.pth', 'epoch_2.pth', 'last_checkpoint']
    runner.epoch, runner.fail = 3, True
    with pytest.raises(OSError, match='File too large'):
        hook._save_best_checkpoint(runner, dict(acc=0.9))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'best_acc_epoch_2.pth', 'epoch_2.pth', 'last_checkpoint']
    with pytest.raises(OSError, match='File too large'):
        hook._save_checkpoint_with_step(runner, 3, dict(epoch=3))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'best_acc_epoch_2.pth', 'epoch_2.pth', 'last_checkpoint']
    assert list(hook.keep_ckpt_ids) == [2]
    assert hook.last_ckpt == str(tmp_path / 'epoch_2.pth')
