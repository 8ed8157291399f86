"""A checkpoint that does not fit the model stops test.py, load_from, resume.

Unit tests of :mod:`mixskd_mm.engine.strict_load`, then the real tools as
subprocesses: the demo Faster R-CNN config given a classifier's checkpoint
(the case of issue 17.2) through ``tools/test.py``, ``load_from`` and
``--resume``, and the documented way out, ``load_strict=False``.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mixskd_mm  # noqa: F401
from mixskd_mm.engine.runner_setup import runner_class
from mixskd_mm.checkpoint import compare_state_dicts
from mixskd_mm.engine.strict_load import (CheckpointMismatchError,
                                          StrictLoadRunner,
                                          check_checkpoint_fits,
                                          with_strict_load)

from repo import ROOT, make_tiny_demo_data

DET_CONFIG = osp.join(ROOT, 'configs', 'demo', 'faster-rcnn_r18_fpn_demo.py')
TIMEOUT = 600


class _Net(nn.Module):

    def __init__(self, classes=3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        self.head = nn.Linear(4, classes)


# --------------------------------------------------------------- unit tests
def test_compare_state_dicts_finds_each_kind():
    model = _Net().state_dict()
    ckpt = {k: v for k, v in _Net(classes=5).state_dict().items()
            if not k.startswith('backbone.1.')}
    ckpt['extra.weight'] = torch.zeros(1)
    diff = compare_state_dicts(ckpt, model)
    # num_batches_tracked is not a weight: neither missing nor counted.
    assert diff.missing == [
        'backbone.1.weight', 'backbone.1.bias', 'backbone.1.running_mean',
        'backbone.1.running_var'
    ]
    assert diff.unexpected == ['extra.weight']
    assert diff.mismatched == [
        'head.weight: checkpoint (5, 4) vs model (3, 4)',
        'head.bias: checkpoint (5,) vs model (3,)'
    ]
    assert not diff.complete
    assert compare_state_dicts(model, model).complete


def test_check_refuses_missing_tensors_with_counts_keys_and_fix():
    model = _Net()
    ckpt = dict(state_dict={f'module.{k}': v for k, v in
                            model.state_dict().items()
                            if k.startswith('backbone.0')})
    with pytest.raises(CheckpointMismatchError) as err:
        check_checkpoint_fits(model, ckpt, 'cls.pth')
    msg = str(err.value)
    assert 'checkpoint cls.pth vs model _Net (8 tensors)' in msg
    assert '6 missing, 0 unexpected, 0 shape mismatch(es)' in msg
    assert ('missing keys (6; backbone: 4, head: 2): backbone.1.weight, '
            'backbone.1.bias') in msg
    assert 'load_strict=False' in msg and 'StrictPretrained' in msg
    # The DDP prefix is revised away first (mmengine's revise_keys).
    assert 'module.' not in msg


def test_check_not_strict_warns_and_unexpected_only_passes(capsys):
    model = _Net()
    MMLogger.get_instance('test_strict_load')  # print_log's 'current'
    ckpt = dict(state_dict={'head.weight': torch.zeros(3, 4)})
    diff = check_checkpoint_fits(model, ckpt, 'p.pth', strict=False)
    assert len(diff.missing) == 7
    assert 'load_strict=False, loading the matching tensors only' in (
        capsys.readouterr().out)
    full = dict(model.state_dict(), **{'branch.w': torch.zeros(2)})
    diff = check_checkpoint_fits(model, full, 'f.pth')
    assert diff.complete and diff.unexpected == ['branch.w']
    assert ('every model tensor loaded; the tensors the model lacks are '
            'ignored:\n  unexpected keys (1; branch: 1): branch.w'
            ) in capsys.readouterr().out


def test_strict_runner_classes():
    assert RUNNERS.get('StrictLoadRunner') is StrictLoadRunner
    assert issubclass(StrictLoadRunner, Runner)
    assert with_strict_load(Runner) is StrictLoadRunner
    assert with_strict_load(StrictLoadRunner) is StrictLoadRunner

    class MyRunner(Runner):
        pass

    strict = with_strict_load(MyRunner)
    assert strict.__name__ == 'StrictMyRunner'
    assert issubclass(strict, MyRunner) and with_strict_load(MyRunner) is (
        strict)
    assert runner_class(Config(dict())) is StrictLoadRunner
    assert runner_class(Config(dict(runner_type=MyRunner))) is strict
    with pytest.raises(KeyError, match="runner_type='Nope'"):
        runner_class(Config(dict(runner_type='Nope')))


# ------------------------------------------------------- the real tools
@pytest.fixture(scope='module')
def det(tmp_path_factory):
    """Tiny demo detection data, a classifier checkpoint, the overrides."""
    base = tmp_path_factory.mktemp('strict')
    demo = make_tiny_demo_data(base / 'demo')
    from mmpretrain.models import ResNet
    # The demo classifier's network (configs/demo/_base_/pretrain_demo.py):
    # its backbone matches the detector's, the rest of the detector is
    # missing from it.
    backbone = ResNet(18, stem_channels=32, base_channels=32)
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state.update({'head.fc.weight': torch.zeros(20, 256),
                  'head.fc.bias': torch.zeros(20)})
    ckpt = base / 'classifier.pth'
    torch.save(dict(meta=dict(epoch=1, iter=1), state_dict=state), ckpt)
    root = osp.join(demo, 'det')
    ann = osp.join(root, 'annotations', 'instances_{}.json')
    options = [
        '--cfg-options', 'model.backbone.init_cfg=None',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_evaluator.ann_file={ann.format("val")}',
        f'test_evaluator.ann_file={ann.format("val")}',
        'train_cfg.max_epochs=1'
    ]
    return base, ckpt, options


def _run(tool, *args):
    env = {k: v for k, v in os.environ.items() if k != 'LOCAL_RANK'}
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', tool), *map(str, args)],
        cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=TIMEOUT)
    return proc.returncode, proc.stdout


def _assert_refused(rc, log, ckpt):
    assert rc == 1, log[-3000:]
    assert 'CheckpointMismatchError' in log
    assert f'checkpoint {ckpt} vs model FasterRCNN' in log
    assert 'missing keys (' in log
    for group in ('neck: ', 'rpn_head: ', 'roi_head: '):
        assert group in log
    assert 'unexpected keys (2; head: 2)' in log
    assert '--cfg-options load_strict=False' in log
    assert 'coco/bbox_mAP' not in log  # nothing was evaluated


def test_test_py_refuses_a_classifier_checkpoint_for_a_detector(det):
    base, ckpt, options = det
    rc, log = _run('test.py', DET_CONFIG, ckpt, '--work-dir',
                   base / 'test_refused', *options)
    _assert_refused(rc, log, ckpt)


def test_load_from_and_resume_refuse_it_too(det):
    base, ckpt, options = det
    rc, log = _run('train.py', DET_CONFIG, '--work-dir', base / 'load_from',
                   *options, f'load_from={ckpt}')
    _assert_refused(rc, log, ckpt)
    assert 'Epoch(train)' not in log
    rc, log = _run('train.py', DET_CONFIG, '--work-dir', base / 'resume',
                   '--resume', ckpt, *options)
    _assert_refused(rc, log, ckpt)
    assert 'Epoch(train)' not in log


def test_load_strict_false_evaluates_on_purpose(det):
    base, ckpt, options = det
    rc, log = _run('test.py', DET_CONFIG, ckpt, '--work-dir',
                   base / 'partial', *options, 'load_strict=False')
    assert rc == 0, log[-3000:]
    assert 'load_strict=False, loading the matching tensors only' in log
    assert 'coco/bbox_mAP' in log
