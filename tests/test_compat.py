"""Tests of mixskd_mm.compat and the CPU mixed-precision optim wrapper."""
import inspect
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import HistoryBuffer
from mmengine.optim import build_optim_wrapper
from mmengine.registry import OPTIM_WRAPPERS
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint

import mixskd_mm  # noqa: F401  (applies the fixes)
from mixskd_mm import compat
from mixskd_mm.engine import cpu_amp
from mixskd_mm.engine.cpu_amp import CPUAmpOptimWrapper, enable_amp


def _mmengine_style_checkpoint(path):
    """Save what makes weights_only=True fail: HistoryBuffer and numpy."""
    buffer = HistoryBuffer()
    buffer.update(0.5)
    buffer.update(0.25)
    torch.save(
        dict(
            meta=dict(iter=7, seed=np.int64(3)),
            state_dict=dict(weight=torch.ones(2, 3), bias=torch.zeros(2)),
            message_hub=dict(
                log_scalars=dict(loss=buffer),
                runtime_info=dict(scores=np.arange(3.0)))), path)
    return path


# -------------------------------------------------------------- checkpoints
def test_plain_torch_load_refuses_mmengine_checkpoint(tmp_path):
    """The premise of the fix: torch's default weights_only=True fails."""
    path = _mmengine_style_checkpoint(tmp_path / 'ckpt.pth')
    with pytest.raises(pickle.UnpicklingError, match='Weights only load'):
        torch.load(path)


def test_local_loader_is_replaced():
    loader = CheckpointLoader._get_checkpoint_loader('work_dirs/x/iter_1.pth')
    assert loader is compat.load_from_local


def test_compat_loader_loads_history_buffer_and_numpy(tmp_path):
    path = str(_mmengine_style_checkpoint(tmp_path / 'ckpt.pth'))
    ckpt = _load_checkpoint(path, map_location='cpu')
    assert ckpt['meta']['iter'] == 7
    assert ckpt['meta']['seed'] == 3
    loss = ckpt['message_hub']['log_scalars']['loss']
    assert isinstance(loss, HistoryBuffer)
    assert loss.current() == 0.25
    np.testing.assert_array_equal(
        ckpt['message_hub']['runtime_info']['scores'], [0., 1., 2.])
    # load_checkpoint (Runner load_from, init_cfg=Pretrained) goes through
    # the same loader.
    model = nn.Linear(3, 2)
    load_checkpoint(model, path, map_location='cpu')
    assert torch.equal(model.weight, torch.ones(2, 3))
    assert torch.equal(model.bias, torch.zeros(2))


def test_compat_loader_keeps_file_not_found(tmp_path):
    missing = str(tmp_path / 'missing.pth')
    with pytest.raises(FileNotFoundError, match='missing.pth can not be'):
        _load_checkpoint(missing)


def test_compat_loader_expands_user(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    _mmengine_style_checkpoint(tmp_path / 'ckpt.pth')
    assert compat.load_from_local('~/ckpt.pth')['meta']['iter'] == 7


def test_loaders_stay_weights_only():
    """Local and http(s) loading never fall back to full unpickling.

    mmengine's http(s) loader (and torchvision://, open-mmlab://) reads
    downloads with its module-level ``load_url``, torch.hub's
    ``load_state_dict_from_url``, whose default is still
    ``weights_only=False``: compat swaps in the weights-only version. The
    behaviour on crafted pickles is tested in tests/test_safe_load.py.
    """
    import mmengine.runner.checkpoint as mm_checkpoint

    from mixskd_mm.checkpoint import safe_load_url
    assert mm_checkpoint.load_url is safe_load_url
    default = inspect.signature(
        torch.hub.load_state_dict_from_url).parameters['weights_only']
    assert default.default is False  # why the swap is needed
    assert inspect.signature(safe_load_url).parameters[
        'weights_only'].default is True


# -------------------------------------------------------------------- numpy
def test_np_in1d_alias_flattens_like_numpy_below_2_4():
    result = np.in1d(np.array([[1, 2], [3, 4]]), [2, 3])
    assert result.tolist() == [False, True, True, False]
    assert np.in1d([1, 5], [5], invert=True).tolist() == [True, False]


def test_mmpretrain_retrieval_metrics_run():
    from mmpretrain.evaluation.metrics import (RetrievalAveragePrecision,
                                               RetrievalRecall)
    pred = torch.tensor([[0.9, 0.8, 0.1], [0.1, 0.2, 0.9]])
    target = [torch.tensor([0]), torch.tensor([0])]
    recall = RetrievalRecall.calculate(
        pred, target, topk=(1, 2), target_indices=True)
    assert [float(r) for r in recall] == [50.0, 50.0]
    map_ = RetrievalAveragePrecision.calculate(
        pred, target, topk=3, target_indices=True)
    # Sample 1 finds class 0 first (AP 1), sample 2 third (AP 1/3).
    assert float(map_) == pytest.approx(100 * (1 + 1 / 3) / 2)


# ------------------------------------------------------------------ CPU AMP
def _wrapper(**kwargs):
    model = nn.Linear(4, 2)
    cfg = dict(
        type='CPUAmpOptimWrapper',
        optimizer=dict(type='SGD', lr=0.1),
        **kwargs)
    return model, build_optim_wrapper(model, cfg)


def test_cpu_amp_wrapper_is_registered_in_root():
    assert OPTIM_WRAPPERS.get('CPUAmpOptimWrapper') is CPUAmpOptimWrapper
    assert 'CPUAmpOptimWrapper' in cpu_amp.__all__
    assert mixskd_mm.engine.CPUAmpOptimWrapper is CPUAmpOptimWrapper


def test_cpu_amp_wrapper_autocasts_bf16_and_steps():
    model, wrapper = _wrapper()
    before = model.weight.detach().clone()
    x = torch.randn(3, 4)
    with wrapper.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    assert model(x).dtype == torch.float32  # only inside the context
    wrapper.update_params(out.float().pow(2).mean())
    assert model.weight.dtype == torch.float32
    assert not torch.equal(model.weight, before)


def test_cpu_amp_wrapper_rejects_float16():
    with pytest.raises(ValueError, match='bfloat16 only'):
        _wrapper(dtype='float16')


def test_enable_amp_on_cuda_uses_amp_optim_wrapper():
    cfg = Config(dict(optim_wrapper=dict(optimizer=dict(type='SGD'))))
    assert enable_amp(cfg, cuda=True) == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'


def test_enable_amp_on_cpu_converts_amp_config():
    cfg = Config(
        dict(optim_wrapper=dict(
            type='AmpOptimWrapper', loss_scale=512., dtype='float16',
            optimizer=dict(type='SGD', lr=0.1))))
    assert enable_amp(cfg, cuda=False) == 'CPUAmpOptimWrapper'
    assert cfg.optim_wrapper.to_dict() == dict(
        type='CPUAmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1))


def test_enable_amp_errors():
    with pytest.raises(ValueError, match='needs an `optim_wrapper`'):
        enable_amp(Config(dict()), cuda=False)
    cfg = Config(dict(optim_wrapper=dict(type='ApexOptimWrapper')))
    with pytest.raises(ValueError, match="'ApexOptimWrapper'"):
        enable_amp(cfg, cuda=False)
