"""Runs stop loudly at the first non-finite loss (NonFiniteLossHook).

tools/train.py stops at the first NaN loss, naming the term, the iteration
and the likely cause; a MixSKD model with a zero temperature is named; the
check adds no host sync; fp16 loss scaling is tolerated, bf16/fp32 are not.
The guard hooks are added once and build in every scope.
"""
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import AmpOptimWrapper, OptimWrapper

import mixskd_mm  # noqa: F401  (registers the hooks, patches the writer)
from mixskd_mm.engine import (NonFiniteLossError, NonFiniteLossHook,
                              ResumeCheckHook, add_runtime_guard_hooks)

import tiny_train_project as tiny
from tiny_train_project import write_config, write_image_set

#: ``iters`` iterations of SGD with momentum at learning rate ``lr``, a
#: checkpoint every iteration.
SCHEDULE = """\
train_cfg = dict(by_epoch=False, max_iters={iters})
optim_wrapper = dict(optimizer=dict(type='SGD', lr={lr}, momentum=0.9))
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
"""


def write_images(root: Path, n: int = 8, size: int = 32) -> Path:
    """``n`` random PNGs of two classes with ``meta/train.txt``."""
    return write_image_set(root, [i % 2 for i in range(n)], size=size)


def train_py(tmp_path: Path, *args, iters: int = 2, lr: float = 0.01):
    """Run tools/train.py on 8 images, batches of 4; the finished process."""
    write_config(tmp_path / 'tiny.py', write_images(tmp_path / 'data'),
                 batch_size=4, schedule=SCHEDULE.format(iters=iters, lr=lr))
    return tiny.train_py(tmp_path, *args)


# --------------------------------------------------------------------------
# NonFiniteLossHook
# --------------------------------------------------------------------------
def test_train_py_stops_at_the_first_non_finite_loss(tmp_path):
    proc = train_py(tmp_path, iters=6, lr=1e30)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert 'NonFiniteLossError: non-finite loss at iteration 2: ' in out
    assert 'loss=nan' in out or 'loss=inf' in out
    assert 'learning rate too high (now 1e+30)' in out
    # stopped before CheckpointHook saved the NaN weights of iteration 2
    work = tmp_path / 'work'
    assert (work / 'iter_1.pth').is_file()
    assert not (work / 'iter_2.pth').exists()
    assert (work / 'last_checkpoint').read_text().endswith('iter_1.pth')


def _toy_runner(tmp_path, model, hooks, iters=3):
    from mmengine.runner import Runner
    data = [dict(inputs=torch.ones(2), i=i) for i in range(8)]
    return Runner(
        model=model, work_dir=str(tmp_path / 'toy'),
        train_dataloader=dict(
            dataset=data, batch_size=1, collate_fn=dict(type='pseudo_collate'),
            sampler=dict(type='DefaultSampler', shuffle=False)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        custom_hooks=hooks, default_hooks=dict(checkpoint=None),
        default_scope='mmengine')


class _NaNAtThirdCall(torch.nn.Module):
    """A toy model whose ``loss_b`` turns NaN at its third training step."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))
        self.calls = 0

    def forward(self, inputs, i, mode='loss'):
        self.calls += 1
        bad = float('nan') if self.calls == 3 else 1.0
        return dict(loss_a=self.w.sum(), loss_b=self.w.sum() * bad,
                    acc=torch.tensor(float('nan')))


def _toy_model():
    from mmengine.model import BaseModel

    class Toy(BaseModel):

        def __init__(self):
            super().__init__()
            self.net = _NaNAtThirdCall()

        def forward(self, inputs, i, mode='loss'):
            return self.net(inputs, i)

    return Toy()


def test_hook_names_the_term_and_iteration_through_a_runner(tmp_path):
    runner = _toy_runner(tmp_path, _toy_model(),
                         [dict(type='NonFiniteLossHook')], iters=5)
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    msg = str(info.value)
    assert msg.startswith('non-finite loss at iteration 3: loss_b=nan '
                          '(total loss=nan).')
    assert 'loss_a' not in msg.splitlines()[0]  # finite terms not blamed
    assert 'acc' not in msg.splitlines()[0]  # not a loss key
    assert runner.iter == 2  # the 3rd iteration did not complete


def test_without_the_hook_the_toy_run_finishes_with_nan(tmp_path):
    """The failure the hook exists for: mmengine alone trains on."""
    runner = _toy_runner(tmp_path, _toy_model(), [], iters=5)
    runner.train()
    assert runner.iter == 5


def test_the_check_reads_the_message_hub_not_the_tensors():
    """No extra host sync: the values RuntimeInfoHook synced are reused."""

    class NoSync:

        def item(self):
            raise AssertionError('synced a tensor')

        __float__ = item

    hub = MessageHub.get_instance('test_the_check_reads_the_message_hub')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss_ce', 1.5)
    hook = NonFiniteLossHook()
    hook._from_hub = True
    runner = SimpleNamespace(message_hub=hub, iter=0, epoch=0)
    hook.after_train_iter(runner, 0, None,
                          dict(loss=NoSync(), loss_ce=NoSync()))
    hub.update_scalar('train/loss', float('inf'))
    hub.update_scalar('train/loss_ce', float('inf'))
    runner.model = torch.nn.Linear(1, 1)
    runner.optim_wrapper = OptimWrapper(
        torch.optim.SGD(runner.model.parameters(), lr=0.5))
    runner.work_dir = 'wd'
    hook._first_iter = 0
    with pytest.raises(NonFiniteLossError, match='loss=inf'):
        hook.after_train_iter(runner, 0, None,
                              dict(loss=NoSync(), loss_ce=NoSync()))


def test_a_zero_temperature_of_mixskd_is_named(tmp_path):
    """MixSKD with T=0 (set after build, past any build-time check)."""
    from mmengine.runner import Runner
    data = write_images(tmp_path / 'data', n=4, size=16)
    model = dict(
        type='MixSKDClassifier',
        backbone=dict(type='ResNet_CIFAR', depth=18, base_channels=8,
                      out_indices=(0, 1, 2, 3)),
        head=dict(type='LinearClsHead', num_classes=2, in_channels=64),
        branch_depth='light',
        data_preprocessor=dict(type='MixSKDDataPreprocessor', alpha=1.0,
                               seed=0, num_classes=2, mean=[127.5] * 3,
                               std=[64.] * 3))
    runner = Runner(
        model=model, work_dir=str(tmp_path / 'work'),
        train_dataloader=dict(
            batch_size=4, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(type='CustomDataset', data_root=str(data),
                         ann_file='meta/train.txt', data_prefix='train',
                         pipeline=[dict(type='LoadImageFromFile'),
                                   dict(type='PackInputs')])),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=2),
        custom_hooks=[dict(type='NonFiniteLossHook')],
        default_hooks=dict(checkpoint=None), default_scope='mmpretrain')
    model = runner.model
    if isinstance(getattr(type(model), 'temperature', None), property):
        model._temperature = 0.0  # past the setter's check
    else:
        model.temperature = 0.0
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    msg = str(info.value)
    assert 'non-finite loss at iteration 1: ' in msg
    assert 'loss_mutual_kd=nan' in msg or 'loss_teacher_kd=nan' in msg
    assert 'loss_ce=' not in msg.splitlines()[0]  # T does not enter CE
    assert ('a zero/negative temperature (model.temperature=0.0): '
            'set it > 0') in msg
    assert 'not the learning rate' in msg  # first step: no update yet


def _fp16_runner():
    model = torch.nn.BatchNorm1d(2)
    wrapper = AmpOptimWrapper.__new__(AmpOptimWrapper)  # CUDA-free stub
    wrapper.cast_dtype = None  # float16 autocast, as AmpOptimWrapper()
    hub = MessageHub.get_instance('fp16_runner')
    return SimpleNamespace(model=model, optim_wrapper=wrapper, iter=4,
                           epoch=0, message_hub=hub, work_dir='wd',
                           hooks=[])


def test_fp16_tolerates_skipped_steps_then_stops_a_streak():
    runner = _fp16_runner()
    hook = NonFiniteLossHook(fp16_patience=3)
    hook.before_train(runner)
    assert hook._fp16
    nan = dict(loss=torch.tensor(float('nan')))
    hook.after_train_iter(runner, 0, None, nan)  # 1: scaler skips the step
    hook.after_train_iter(runner, 1, None, dict(loss=torch.tensor(1.0)))
    hook.after_train_iter(runner, 2, None, nan)  # streak restarted: 1
    hook.after_train_iter(runner, 3, None, nan)  # 2
    with pytest.raises(NonFiniteLossError, match='3 non-finite losses in a '
                       'row') as info:
        hook.after_train_iter(runner, 4, None, nan)
    assert 'fp16 overflow' in str(info.value)


def test_fp16_stops_at_once_when_buffers_are_corrupt():
    runner = _fp16_runner()
    runner.model.running_mean.fill_(float('nan'))
    hook = NonFiniteLossHook(fp16_patience=10)
    hook.before_train(runner)
    with pytest.raises(NonFiniteLossError, match='non-finite buffers: '
                       'running_mean'):
        hook.after_train_iter(runner, 0, None,
                              dict(loss=torch.tensor(float('inf'))))


def test_bf16_and_fp32_stop_at_once():
    runner = _fp16_runner()
    runner.optim_wrapper.cast_dtype = torch.bfloat16
    hook = NonFiniteLossHook(fp16_patience=10)
    hook.before_train(runner)
    assert not hook._fp16
    with pytest.raises(NonFiniteLossError):
        hook.after_train_iter(runner, 0, None,
                              dict(loss=torch.tensor(float('nan'))))


def test_fp16_patience_must_be_positive():
    with pytest.raises(ValueError, match='fp16_patience'):
        NonFiniteLossHook(fp16_patience=0)


def test_guard_hooks_are_added_once_and_user_settings_kept():
    from mmengine.config import Config
    cfg = Config(dict(custom_hooks=[
        dict(type='EMAHook'),
        dict(type='NonFiniteLossHook', fp16_patience=20)]))
    add_runtime_guard_hooks(cfg)
    add_runtime_guard_hooks(cfg)
    types = [h['type'] for h in cfg.custom_hooks]
    assert types == ['EMAHook', 'NonFiniteLossHook', 'ResumeCheckHook',
                     'LabelRangeCheckHook']
    assert cfg.custom_hooks[1]['fp16_patience'] == 20
    assert add_runtime_guard_hooks(Config()).custom_hooks == [
        dict(type='NonFiniteLossHook'), dict(type='ResumeCheckHook'),
        dict(type='LabelRangeCheckHook')]


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmdet', 'mmseg'])
def test_hooks_build_in_every_scope(scope):
    import importlib
    hooks = importlib.import_module(f'{scope}.registry').HOOKS
    assert hooks.get('NonFiniteLossHook') is NonFiniteLossHook
    assert hooks.get('ResumeCheckHook') is ResumeCheckHook
