"""End-to-end tests of tools/train.py, tools/test.py and tools/dist_train.sh.

A tiny mmpretrain classifier (ResNet-18 with 8 base channels) trains for a
few iterations on eight 32x32 JPEGs written to a temporary folder. The tools
run as subprocesses with this interpreter, like a user runs them.
"""
import json
import os
import pickle
import shutil
import subprocess
import sys

import pytest
import torch

import mixskd_mm  # noqa: F401  (the compat loader, as the tools import it)

from downstream_utils import free_port
from repo import TOOLS, import_tool
from tiny_train_project import write_class_folders

TIMEOUT = 300

CONFIG = """\
default_scope = 'mmpretrain'
data_root = {data_root!r}
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        num_classes=2, mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True),
    backbone=dict(
        type='ResNet', depth=18, stem_channels=8, base_channels=8,
        out_indices=(3, ), norm_cfg=dict(type='{norm}')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead', num_classes=2, in_channels=64,
        loss=dict(type='CrossEntropyLoss'), topk=(1, )))
pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=4, num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root=data_root,
                 pipeline=pipeline))
test_dataloader = dict(
    batch_size=4, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root=data_root,
                 pipeline=pipeline))
test_evaluator = dict(type='Accuracy', topk=(1, ))
test_cfg = dict()
train_cfg = dict(by_epoch=False, max_iters=4)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False))
log_processor = dict(by_epoch=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
randomness = dict(seed=0)
visualizer = dict(
    type='UniversalVisualizer', vis_backends=[dict(type='LocalVisBackend')])
"""

# Saves every rank's weights before and after training (imported through
# the config's custom_imports, so PYTHONPATH must hold its folder).
RANK_DUMP_HOOK = """\
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class TestRankDumpHook(Hook):

    def _dump(self, runner, tag):
        model = runner.model
        wrapper = type(model).__name__
        if is_model_wrapper(model):
            model = model.module
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        torch.save(dict(state=state, wrapper=wrapper),
                   osp.join(runner.work_dir, f'{tag}_rank{get_rank()}.pth'))

    def before_train(self, runner):
        self._dump(runner, 'init')

    def after_train(self, runner):
        self._dump(runner, 'final')
"""

DIST_CONFIG = """\
_base_ = './tiny_syncbn.py'
custom_imports = dict(imports=['test_rank_dump_hook'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='TestRankDumpHook')]
"""


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    """The data, the configs and the rank-dump hook module."""
    root = tmp_path_factory.mktemp('tools')
    write_class_folders(root / 'data', per_class=4)
    data_root = str(root / 'data')
    (root / 'tiny.py').write_text(
        CONFIG.format(data_root=data_root, norm='BN'))
    (root / 'tiny_syncbn.py').write_text(
        CONFIG.format(data_root=data_root, norm='SyncBN'))
    (root / 'tiny_dist.py').write_text(DIST_CONFIG)
    (root / 'test_rank_dump_hook.py').write_text(RANK_DUMP_HOOK)
    return root


def _run(args, cwd, **env):
    """Run a command; fail with its output when it exits non-zero."""
    full_env = {**os.environ, **env}
    full_env.pop('LOCAL_RANK', None)
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=full_env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
    assert proc.returncode == 0, (
        f'{" ".join(map(str, args))} exited {proc.returncode}:\n'
        f'{proc.stdout[-6000:]}')
    return proc.stdout


def _train(config, work_dir, *args):
    return _run([sys.executable, TOOLS / 'train.py', config, '--work-dir',
                 work_dir, *args], cwd=config.parent)


def _load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.fixture(scope='module')
def first_run(project):
    """`--amp` training that stops at its first checkpoint (iteration 2)."""
    work_dir = project / 'work_amp'
    log = _train(project / 'tiny.py', work_dir, '--amp', '--cfg-options',
                 'train_cfg.max_iters=2')
    return work_dir, log


def test_amp_on_cpu_trains_with_bf16_wrapper(first_run):
    work_dir, log = first_run
    assert 'AMP without CUDA: optim_wrapper.type = CPUAmpOptimWrapper' in log
    dumped = (work_dir / 'tiny.py').read_text()  # the config the Runner used
    assert "type='CPUAmpOptimWrapper'" in dumped
    assert 'Iter(train) [2/2]' in log
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_2.pth']


def test_compat_loads_the_trained_checkpoint(first_run):
    """The saved checkpoint needs the compat loader under torch's default."""
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import _load_checkpoint
    ckpt_path = first_run[0] / 'iter_2.pth'
    with pytest.raises(pickle.UnpicklingError):
        torch.load(ckpt_path)
    ckpt = _load_checkpoint(str(ckpt_path), map_location='cpu')
    assert ckpt['meta']['iter'] == 2
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)


def test_resume_continues_from_saved_iteration(first_run, tmp_path):
    work_dir = tmp_path / 'work'
    shutil.copytree(first_run[0], work_dir)
    # `last_checkpoint` holds an absolute path: point it at the copy.
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_2.pth'))
    log = _train(first_run[0].parent / 'tiny.py', work_dir, '--amp',
                 '--resume')
    assert f'Auto resumed from the latest checkpoint {work_dir}' in log
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [4/4]' in log
    assert 'Iter(train) [1/4]' not in log  # did not start again from 0
    final = _load(work_dir / 'iter_4.pth')
    assert final['meta']['iter'] == 4
    assert final['message_hub']['runtime_info']['max_iters'] == 4
    first = _load(work_dir / 'iter_2.pth')
    assert not torch.equal(final['state_dict']['head.fc.weight'],
                           first['state_dict']['head.fc.weight'])


def test_test_py_writes_metrics(first_run, tmp_path):
    work_dir, _ = first_run
    out = tmp_path / 'out' / 'metrics.json'
    show_dir = tmp_path / 'shown'
    log = _run([
        sys.executable, TOOLS / 'test.py', work_dir.parent / 'tiny.py',
        work_dir / 'iter_2.pth', '--work-dir', tmp_path / 'test_work',
        '--out', out, '--show-dir', show_dir, '--cfg-options',
        'runner_type=Runner'
    ], cwd=tmp_path)
    assert f'Load checkpoint from {work_dir / "iter_2.pth"}' in log
    metrics = json.loads(out.read_text())
    assert list(metrics) == ['accuracy/top1']
    assert 0. <= metrics['accuracy/top1'] <= 100.
    assert f'accuracy/top1: {metrics["accuracy/top1"]:.4f}' in log
    # --interval 1 (mmpretrain's default): every sample is drawn; the two
    # classes' images share the names 0-3.jpg, so four files remain.
    assert sorted(p.name for p in show_dir.iterdir()) == [
        f'{i}.jpg_0.png' for i in range(4)]


def test_dist_train_two_cpu_processes(project):
    work_dir = project / 'work_dist'
    log = _run(
        ['bash', TOOLS / 'dist_train.sh', project / 'tiny_dist.py', '2',
         '--work-dir', work_dir],
        cwd=project,
        PORT=str(free_port()),
        PYTHONPATH=str(project))
    assert 'initialised a gloo process group of 2 CPU processes' in log
    assert 'destroying the process group (2 processes) before exit' in log
    assert 'terminate called' not in log
    assert 'these norm layers train as BN' in log
    assert 'model.backbone.norm_cfg' in log
    assert 'Iter(train) [4/4]' in log
    dumps = {(tag, rank): _load(work_dir / f'{tag}_rank{rank}.pth')
             for tag in ('init', 'final') for rank in (0, 1)}
    assert {d['wrapper'] for d in dumps.values()} == {
        'MMDistributedDataParallel'}
    init0, init1 = dumps['init', 0]['state'], dumps['init', 1]['state']
    final0, final1 = dumps['final', 0]['state'], dumps['final', 1]['state']
    # BN running statistics are rank-local (broadcast_buffers=False, as in
    # mmengine's default DDP): they differ, so the ranks saw different data.
    stat = 'backbone.bn1.running_mean'
    assert not torch.equal(final0[stat], final1[stat])
    # ... and still every weight is identical: the gradients were averaged.
    params = [k for k in final0 if 'running_' not in k]
    assert len(params) > 60
    for key in params:
        assert torch.equal(init0[key], init1[key]), key
        assert torch.equal(final0[key], final1[key]), key
    changed = [k for k in params if not torch.equal(init0[k], final0[k])]
    assert 'backbone.conv1.weight' in changed
    assert 'head.fc.weight' in changed
    assert (work_dir / 'iter_4.pth').is_file()

    # dist_test.sh evaluates that checkpoint with the same two processes.
    out = project / 'dist_metrics.json'
    log = _run(
        ['bash', TOOLS / 'dist_test.sh', project / 'tiny_dist.py',
         work_dir / 'iter_4.pth', '2', '--work-dir', project / 'work_dtest',
         '--out', out],
        cwd=project,
        PORT=str(free_port()),
        PYTHONPATH=str(project))
    assert 'initialised a gloo process group of 2 CPU processes' in log
    assert 'destroying the process group (2 processes) before exit' in log
    assert 'terminate called' not in log
    metrics = json.loads(out.read_text())
    assert 0. <= metrics['accuracy/top1'] <= 100.


# ------------------------------------------------ argument handling, quick
@pytest.fixture(scope='module')
def train_tool():
    return import_tool('train')


def _cfg_of(train_tool, project, *argv):
    from mmengine.config import Config
    args = train_tool.parse_args([str(project / 'tiny.py'), *argv])
    return train_tool.merge_args(Config.fromfile(args.config), args)


@pytest.fixture
def local_rank_env(monkeypatch):
    """parse_args sets LOCAL_RANK; restore the variable afterwards."""
    monkeypatch.setenv('LOCAL_RANK', '3')
    return monkeypatch


def test_train_args_resume_and_work_dir(train_tool, project,
                                        local_rank_env):
    cfg = _cfg_of(train_tool, project)
    assert cfg.work_dir == os.path.join('./work_dirs', 'tiny')
    assert cfg.get('resume', False) is False and cfg.launcher == 'none'
    assert os.environ['LOCAL_RANK'] == '3'  # torchrun's value wins
    local_rank_env.delenv('LOCAL_RANK')
    cfg = _cfg_of(train_tool, project, '--resume', '--work-dir', 'w',
                  '--local-rank', '1')
    assert (cfg.resume, cfg.load_from, cfg.work_dir) == (True, None, 'w')
    assert os.environ['LOCAL_RANK'] == '1'
    ckpt = project / 'tiny.py'  # any existing file will do
    cfg = _cfg_of(train_tool, project, '--resume', str(ckpt),
                  '--cfg-options', 'train_cfg.max_iters=9')
    assert (cfg.resume, cfg.load_from) == (True, str(ckpt))
    assert cfg.train_cfg.max_iters == 9


def test_train_args_errors(train_tool, project, capsys, local_rank_env):
    with pytest.raises(SystemExit):
        train_tool.parse_args([str(project / 'nope.py')])
    assert "config file '" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_tool.parse_args(
            [str(project / 'tiny.py'), '--resume', 'missing.pth'])
    assert "--resume checkpoint 'missing.pth' does not exist" in (
        capsys.readouterr().err)
    with pytest.raises(ValueError, match='base_batch_size'):
        _cfg_of(train_tool, project, '--auto-scale-lr')
    cfg = _cfg_of(train_tool, project, '--auto-scale-lr', '--cfg-options',
                  'auto_scale_lr.base_batch_size=16')
    assert cfg.auto_scale_lr.enable is True


def test_train_amp_choice(train_tool, project, local_rank_env):
    local_rank_env.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = _cfg_of(train_tool, project, '--amp')
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'
    # An AmpOptimWrapper config trains on CPU too, without --amp.
    cfg = _cfg_of(train_tool, project, '--cfg-options',
                  'optim_wrapper.type=AmpOptimWrapper',
                  'optim_wrapper.loss_scale=dynamic')
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
    local_rank_env.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = _cfg_of(train_tool, project, '--amp')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    cfg = _cfg_of(train_tool, project)
    assert cfg.optim_wrapper.get('type', 'OptimWrapper') == 'OptimWrapper'


def test_train_import_scope(train_tool, tmp_path, monkeypatch):
    """`{scope}.utils.register_all_modules(init_default_scope=False)`."""
    package = tmp_path / 'fakescope'
    package.mkdir()
    (package / '__init__.py').write_text('')
    (package / 'utils.py').write_text(
        'calls = []\n\n\n'
        'def register_all_modules(init_default_scope=True):\n'
        '    calls.append(init_default_scope)\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    from mmengine.config import Config
    scope = train_tool.import_scope(Config(dict(default_scope='fakescope')))
    assert scope == 'fakescope'
    assert sys.modules['fakescope.utils'].calls == [False]
    assert train_tool.import_scope(Config(dict())) is None
    with pytest.raises(ImportError, match="package 'mmnothere' is not"):
        train_tool.import_scope(Config(dict(default_scope='mmnothere')))
