"""Helpers for the backbone export and StrictPretrained tests: tiny
training checkpoints, the exported weights, the export's refusals.

Not a test module (pytest collects only ``test_*.py``); tests import it by
name (pyproject.toml puts ``tests/`` on ``sys.path``). ``downstream_utils``
re-exports these names.

To cover a new classifier, write its training checkpoint with
:func:`save_training_checkpoint` and run the same checks, e.g.::

    MIXSKD_R18 = dict(type='MixSKD', backbone=dict(type='ResNet', depth=18),
                      ...)

    def test_export_mixskd(tmp_path):
        ckpt = save_training_checkpoint(tmp_path / 'mixskd.pth', MIXSKD_R18)
        info = export_backbone(ckpt['path'], str(tmp_path / 'bb.pth'))
        assert_same_tensors(load_exported(tmp_path / 'bb.pth'),
                            ckpt['backbone'])
"""
import contextlib
import copy
import logging
import os.path as osp
from collections import OrderedDict
from types import SimpleNamespace
from typing import Dict, Iterable, Optional

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import EMAHook
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import MODELS, DefaultScope

import mixskd_mm  # noqa: F401  (registers StrictPretrained, applies compat)
from mixskd_mm.checkpoint import CheckpointFormatError, export_backbone


def resnet_classifier(depth: int = 18, num_classes: int = 20) -> dict:
    """Config of an mmpretrain ``ImageClassifier`` with a ResNet."""
    width = 512 if depth < 50 else 2048
    return dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet', depth=depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=width,
            loss=dict(type='CrossEntropyLoss')))


# Training-only parts that a self-distillation classifier adds next to
# ``backbone`` and ``head``; the export must drop them.
FAKE_TRAINING_PARTS = OrderedDict([
    ('branches.0.layer4.0.conv1.weight', (8, 4, 3, 3)),
    ('branches.0.layer4.0.bn1.running_mean', (8, )),
    ('branch_heads.0.fc.weight', (20, 8)),
    ('self_teacher.fuse.weight', (8, 16, 1, 1)),
    ('self_teacher.fuse.bias', (8, )),
])


# ---------------------------------------------------------------------------
# models and checkpoints
# ---------------------------------------------------------------------------
def build(model_cfg: dict, scope: str = 'mmpretrain') -> torch.nn.Module:
    """Build a model config in the registry tree of ``scope``."""
    with DefaultScope.overwrite_default_scope(scope):
        return MODELS.build(copy.deepcopy(model_cfg))


def randomize_(module: torch.nn.Module, seed: int) -> None:
    """Perturb every float tensor (parameters and BN statistics).

    Afterwards no tensor equals its default initialisation (ones, zeros,
    fresh Kaiming draws), so an equality check against a checkpoint cannot
    pass by accident, e.g. when a norm that zero_init_residual re-zeroes was
    zero in the checkpoint too. The noise is small so that the weights still
    train (all-positive random convolutions overflow to NaN).
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.randn(tensor.shape, generator=generator)
                if key.endswith('running_var'):
                    tensor.mul_(1 + 0.1 * noise.abs())  # stays positive
                else:
                    tensor.add_(0.02 * noise)
            elif tensor.numel() == 1:  # num_batches_tracked
                tensor.fill_(
                    int(torch.randint(1, 1000, (1, ), generator=generator)))


def backbone_of(state_dict: Dict[str, torch.Tensor],
                prefix: str = 'backbone.') -> 'OrderedDict':
    """The tensors under ``prefix``, prefix removed, cloned."""
    return OrderedDict((k[len(prefix):], v.clone())
                       for k, v in state_dict.items() if k.startswith(prefix))


def save_training_checkpoint(path,
                             model_cfg: dict,
                             extra_tensors: Optional[dict] = None,
                             ema: bool = False,
                             with_cfg: bool = True,
                             seed: int = 0) -> dict:
    """Write a checkpoint shaped like the one mmengine's Runner saves.

    It has ``meta`` (with the config text in ``meta['cfg']``, as
    ``Runner.save_checkpoint`` stores it), ``state_dict``, ``message_hub``
    (whose HistoryBuffers need ``weights_only=False``, as in real runs) and
    ``optimizer``. With ``ema=True`` mmengine's real ``EMAHook`` is used:
    the averaged model is taken before the raw weights change, and the
    hook's ``before_save_checkpoint`` swaps the weights, so ``state_dict``
    holds the EMA weights and ``ema_state_dict`` the raw ones.

    Args:
        path (str | Path): Where to write.
        model_cfg (dict): mmpretrain classifier config.
        extra_tensors (dict, optional): ``{key: shape}`` of training-only
            tensors to add (fake branches / self-teacher). Defaults to None.
        ema (bool): Save as with ``EMAHook``. Defaults to False.
        with_cfg (bool): Store ``meta['cfg']``. Defaults to True.
        seed (int): Seed of the random weights. Defaults to 0.

    Returns:
        dict: ``path`` (str), ``backbone`` (the backbone tensors the export
        must produce, prefix removed), ``raw_backbone`` (the non-EMA
        backbone when ``ema``) and ``state_dict``.
    """
    path = str(path)
    model = build(model_cfg)
    randomize_(model, seed)
    hook = None
    if ema:
        hook = EMAHook()
        runner = SimpleNamespace(model=model)
        hook.before_run(runner)  # the averaged copy keeps these weights
        randomize_(model, seed + 1)  # "training" moves the raw weights
    state_dict = OrderedDict(
        (k, v.clone()) for k, v in model.state_dict().items())
    generator = torch.Generator().manual_seed(seed + 2)
    for key, shape in (extra_tensors or {}).items():
        state_dict[key] = torch.rand(shape, generator=generator)
    message_hub = MessageHub.get_instance(f'export_test_{seed}')
    message_hub.update_scalar('train/loss', 1.0)
    meta = dict(epoch=3, iter=30, seed=seed, mmengine_version='0.10.7')
    if with_cfg:
        meta['cfg'] = Config(
            dict(
                model=model_cfg,
                default_scope='mmpretrain',
                custom_imports=dict(
                    imports=['mixskd_mm'],
                    allow_failed_imports=False))).pretty_text
    checkpoint = dict(
        meta=meta,
        state_dict=state_dict,
        message_hub=message_hub.state_dict(),
        optimizer=dict(state={}, param_groups=[]))
    raw_backbone = backbone_of(state_dict)
    if hook is not None:
        hook.before_save_checkpoint(runner, checkpoint)
    torch.save(checkpoint, path)
    return dict(
        path=path,
        backbone=backbone_of(checkpoint['state_dict']),
        raw_backbone=raw_backbone,
        state_dict=checkpoint['state_dict'])


def load_exported(path) -> dict:
    """Load an exported backbone file the strictest way torch allows."""
    return torch.load(str(path), map_location='cpu', weights_only=True)


def assert_same_tensors(actual: Dict[str, torch.Tensor],
                        expected: Dict[str, torch.Tensor]) -> None:
    """Same keys and bit-identical values."""
    only_actual = sorted(set(actual) - set(expected))
    only_expected = sorted(set(expected) - set(actual))
    assert not (only_actual or only_expected), (
        f'keys differ: only in actual {only_actual[:5]}, only in expected '
        f'{only_expected[:5]}')
    different = [
        k for k in expected if not torch.equal(actual[k], expected[k])
    ]
    assert not different, f'{len(different)} tensors differ: {different[:5]}'


# ---------------------------------------------------------------------------
# data and config overrides
# ---------------------------------------------------------------------------
@contextlib.contextmanager
def captured_log():
    """Collect the records mmengine's current logger emits meanwhile."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def assert_export_refused(src: str, out, patterns: Iterable[str]):
    """``export_backbone(src, out)`` raises ``CheckpointFormatError``
    matching every regex of ``patterns`` and writes no ``out``."""
    with pytest.raises(CheckpointFormatError) as info:
        export_backbone(src, str(out))
    for pattern in patterns:
        info.match(pattern)
    assert not osp.exists(out)
