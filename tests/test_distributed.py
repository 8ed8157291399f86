"""Tests of mixskd_mm.engine.distributed: CPU (gloo) set-up and teardown."""
import pytest
import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODEL_WRAPPERS

import mixskd_mm  # noqa: F401
from mixskd_mm.engine.distributed import (distributed_run,
                                          setup_cpu_distributed,
                                          teardown_distributed)

from downstream_utils import free_port


def _cfg(**kwargs):
    kwargs.setdefault('model', dict(type='Toy'))
    return Config(kwargs)


def test_setup_cpu_distributed_skips_without_launcher():
    cfg = _cfg(launcher='none')
    assert setup_cpu_distributed(cfg) is False
    assert 'model_wrapper_cfg' not in cfg
    assert 'env_cfg' not in cfg


def test_setup_cpu_distributed_skips_with_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = _cfg(launcher='pytorch')
    assert setup_cpu_distributed(cfg) is False
    assert 'model_wrapper_cfg' not in cfg


def test_setup_cpu_distributed_rejects_slurm_on_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(RuntimeError, match='dist_train.sh'):
        setup_cpu_distributed(_cfg(), launcher='slurm')


def test_setup_cpu_distributed_names_missing_torchrun_env(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    for name in ('RANK', 'WORLD_SIZE', 'MASTER_PORT'):
        monkeypatch.delenv(name, raising=False)
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="'RANK'.*'WORLD_SIZE'"):
        setup_cpu_distributed(_cfg(launcher='pytorch'))


@pytest.fixture
def torchrun_env(monkeypatch):
    """A one-process torchrun environment; destroys the group afterwards."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    env = dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
               MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def test_setup_cpu_distributed_defaults(torchrun_env):
    cfg = _cfg(launcher='pytorch', find_unused_parameters=True,
               env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)))
    assert setup_cpu_distributed(cfg) is True
    assert dist.is_initialized() and dist.get_backend() == 'gloo'
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', device_ids=None,
        broadcast_buffers=False, find_unused_parameters=True)


def test_setup_cpu_distributed_keeps_user_wrapper_and_reverts_sync_bn(
        torchrun_env):
    cfg = _cfg(
        launcher='pytorch',
        sync_bn='torch',
        model_wrapper_cfg=dict(
            type='MMDistributedDataParallel', device_ids=[0],
            find_unused_parameters=True),
        model=dict(
            type='Toy',
            backbone=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)),
            heads=[dict(norm_cfg=dict(type='mmcv.MMSyncBN')),
                   dict(norm_cfg=dict(type='BN'))]))
    assert setup_cpu_distributed(cfg) is True
    wrapper_cfg = cfg.model_wrapper_cfg
    assert wrapper_cfg.device_ids is None
    assert wrapper_cfg.find_unused_parameters is True
    assert cfg.model.backbone.norm_cfg == dict(type='BN', requires_grad=True)
    assert [h.norm_cfg.type for h in cfg.model.heads] == ['BN', 'BN']
    assert cfg.sync_bn is None
    # What Runner.wrap_model does: device_ids=[LOCAL_RANK] as default_args,
    # which the config's device_ids=None must override.
    model = MODEL_WRAPPERS.build(
        wrapper_cfg.to_dict(),
        default_args=dict(device_ids=[0], module=nn.Linear(2, 2)))
    assert model.device_ids is None
    assert model.find_unused_parameters is True


def test_setup_cpu_distributed_refuses_non_gloo_group(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(dist, 'is_initialized', lambda: True)
    monkeypatch.setattr(dist, 'get_backend', lambda *args: 'nccl')
    with pytest.raises(RuntimeError, match="backend 'nccl'"):
        setup_cpu_distributed(_cfg(launcher='pytorch'))


# ------------------------------------------------------------------ teardown
def test_teardown_without_group_does_nothing():
    assert not dist.is_initialized()
    assert teardown_distributed() is False


def _recording_barrier(monkeypatch):
    calls = []
    real = dist.barrier
    monkeypatch.setattr(dist, 'barrier',
                        lambda *a, **k: calls.append('barrier') or real())
    return calls


def test_distributed_run_destroys_the_group(torchrun_env, monkeypatch):
    calls = _recording_barrier(monkeypatch)
    cfg = _cfg(launcher='pytorch')
    with distributed_run(cfg) as applied:
        assert applied is True
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
    assert not dist.is_initialized()
    assert calls == ['barrier']  # every rank finished before the teardown


def test_distributed_run_destroys_the_group_on_error(torchrun_env,
                                                     monkeypatch):
    calls = _recording_barrier(monkeypatch)
    with pytest.raises(ValueError, match='boom'):
        with distributed_run(_cfg(launcher='pytorch')):
            assert dist.is_initialized()
            raise ValueError('boom')
    assert not dist.is_initialized()
    assert calls == []  # no barrier: a failed rank's peers may never come


def test_distributed_run_without_launcher_is_a_no_op():
    with distributed_run(_cfg(launcher='none')) as applied:
        assert applied is False
    assert not dist.is_initialized()
