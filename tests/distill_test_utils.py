"""Helpers for the distillation tests: tiny models, batches, recipes.

Not a test module: pyproject.toml puts ``tests/`` on ``sys.path``
(pytest runs with ``--import-mode=importlib``), so tests write
``import distill_test_utils as dtu``.
"""
import copy
import math
import os.path as osp
from typing import Dict, Iterable, List, Optional, Set, Tuple

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mixskd_mm  # noqa: F401  (registers the models)

from repo import ROOT  # noqa: F401  (kept for importers; tests use repo)

NUM_CLASSES = 5
NORM = dict(mean=[127.5] * 3, std=[64.] * 3)
#: Methods whose branches or self-teacher read every backbone stage.
MULTI_STAGE = ('MixSKDClassifier', 'FRSKDClassifier')
#: Methods with a frozen, pre-trained teacher (``model.teacher``).
TEACHER_STUDENT = ('KDClassifier', 'MixKDClassifier')
#: What a method recipe shares with the MixSKD (or baseline) recipe.
SCHEDULE_KEYS = ('optim_wrapper', 'param_scheduler', 'train_cfg',
                 'train_dataloader')


def tiny_backbone(out_indices=(3, )) -> dict:
    """A ResNet_CIFAR-18 with 8 base channels: last stage 64 channels."""
    return dict(
        type='ResNet_CIFAR',
        depth=18,
        base_channels=8,
        out_indices=out_indices)


def tiny_head(in_channels: int = 64, num_classes: int = NUM_CLASSES) -> dict:
    return dict(
        type='LinearClsHead', num_classes=num_classes, in_channels=in_channels)


def tiny_mixskd(depth: int = 18,
                base_channels: int = 8,
                stem_channels: Optional[int] = None,
                branch_depth: str = 'light',
                **overrides) -> dict:
    """A ``MixSKDClassifier`` on a ResNet_CIFAR that returns all 4 stages.

    The last stage has ``8 * base_channels`` channels (4 times that for a
    Bottleneck depth, >= 50); ``stem_channels`` is the backbone's default
    (64) unless given. ``overrides`` replace top-level keys.
    """
    backbone = dict(type='ResNet_CIFAR', depth=depth,
                    base_channels=base_channels, out_indices=(0, 1, 2, 3))
    if stem_channels is not None:
        backbone['stem_channels'] = stem_channels
    last = base_channels * 8 * (4 if depth >= 50 else 1)
    cfg = dict(
        type='MixSKDClassifier',
        backbone=backbone,
        head=tiny_head(in_channels=last),
        branch_depth=branch_depth,
        data_preprocessor=dict(
            type='MixSKDDataPreprocessor', alpha=1.0, seed=0, **NORM))
    cfg.update(overrides)
    return cfg


def method_config(kind: str, teacher: Optional[dict] = None,
                  **kwargs) -> dict:
    """The smallest config of method ``kind`` (a classifier type name).

    A tiny backbone (all stages for :data:`MULTI_STAGE` methods) and head;
    :data:`TEACHER_STUDENT` methods get ``teacher`` (``dict(config,
    checkpoint)``). ``kwargs`` are further top-level keys.
    """
    stages = (0, 1, 2, 3) if kind in MULTI_STAGE else (3, )
    if kind in TEACHER_STUDENT:
        kwargs['teacher'] = teacher
    return dict(type=kind, backbone=tiny_backbone(stages), head=tiny_head(),
                **kwargs)


def plain_classifier(backbone: dict,
                     head: dict,
                     neck: Optional[dict] = None) -> dict:
    """An mmpretrain ``ImageClassifier`` config with the given parts."""
    return dict(
        type='ImageClassifier',
        backbone=copy.deepcopy(backbone),
        neck=copy.deepcopy(neck or dict(type='GlobalAveragePooling')),
        head=copy.deepcopy(head))


def build(cfg: dict, seed: int = 0):
    """Build and initialise a model, deterministically."""
    torch.manual_seed(seed)
    model = MODELS.build(copy.deepcopy(cfg))
    model.init_weights()
    return model


def batch(n: int = 4,
          size: int = 16,
          seed: int = 0,
          num_classes: int = NUM_CLASSES) -> dict:
    """A raw data batch as a dataloader gives it: ``n`` uint8 images of
    ``(3, size, size)``, sample ``i`` labelled ``i % num_classes``."""
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[
            torch.randint(
                0, 256, (3, size, size), dtype=torch.uint8, generator=g)
            for _ in range(n)
        ],
        data_samples=[
            DataSample().set_gt_label(i % num_classes) for i in range(n)
        ])


def losses_of(model, data: dict) -> Dict[str, torch.Tensor]:
    """The loss dict of one training forward pass."""
    return model(**model.data_preprocessor(data, True), mode='loss')


def owner(name: str) -> str:
    """'backbone', 'head', ... or 'peers.0.backbone' for a parameter."""
    parts = name.split('.')
    return '.'.join(parts[:3]) if parts[0] == 'peers' else parts[0]


def grad_owners(model, loss: torch.Tensor) -> Set[str]:
    """The parts of ``model`` that ``loss`` sends a non-zero gradient to."""
    model.zero_grad(set_to_none=True)
    loss.backward()
    return {
        owner(name)
        for name, p in model.named_parameters()
        if p.grad is not None and p.grad.abs().sum() > 0
    }


def save_teacher(path,
                 backbone: Optional[dict] = None,
                 num_classes: int = NUM_CLASSES,
                 seed: int = 1) -> dict:
    """Save a random tiny ``ImageClassifier`` as a teacher checkpoint.

    Returns:
        dict: Its model config (``config`` for ``FrozenTeacher``) and its
        state dict, saved in mmengine's ``{'state_dict': ...}`` form.
    """
    cfg = plain_classifier(backbone or tiny_backbone(),
                           tiny_head(num_classes=num_classes))
    model = build(cfg, seed=seed)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {}}, str(path))
    return dict(config=cfg, state_dict=state)


def recipe(name: str) -> Config:
    """A config of ``configs/`` shrunk for a CPU test.

    5 classes instead of 100; teacher-student recipes get a tiny teacher
    (built by :func:`save_teacher`) in place of the ResNet_CIFAR-50 one.
    """
    cfg = Config.fromfile(osp.join(ROOT, 'configs', f'{name}.py'))
    model = cfg.model
    model.head.num_classes = NUM_CLASSES
    if 'data_preprocessor' not in model:  # as the Runner merges it
        model.data_preprocessor = copy.deepcopy(cfg.data_preprocessor)
    model.data_preprocessor.num_classes = NUM_CLASSES
    return cfg


def teacher_spec(path) -> Tuple[dict, dict]:
    """Save a tiny teacher at ``path`` (:func:`save_teacher`).

    Returns:
        tuple: ``dict(config, checkpoint)`` for ``model.teacher``, and what
        :func:`save_teacher` returned.
    """
    saved = save_teacher(path)
    return dict(config=saved['config'], checkpoint=str(path)), saved


def recipe_pair(method: str, dataset: str,
                reference: str = 'mixskd') -> Tuple[Config, Config]:
    """The shipped ``configs/<method>_<arch>_<dataset>.py`` and the same of
    ``reference``: ResNet-18 for ``cifar100``, ResNet-50 for ``imagenet``."""
    arch = 'r18' if dataset == 'cifar100' else 'r50'
    return tuple(
        Config.fromfile(osp.join(ROOT, 'configs', f'{name}_{arch}_'
                                 f'{dataset}.py'))
        for name in (method, reference))


def assert_same_schedule(cfg: Config, ref: Config):
    """``cfg`` trains with ``ref``'s optimizer, schedule and train data."""
    for key in SCHEDULE_KEYS:
        assert cfg[key] == ref[key], key


def assert_finite_terms(logs: Iterable[Dict[str, float]],
                        terms: Optional[Set[str]] = None):
    """Every log is finite and has (at least, beside ``loss``) ``terms``."""
    for log in logs:
        if terms is not None:
            assert terms < set(log), sorted(log)
        assert all(math.isfinite(v) for v in log.values()), log


def with_tiny_teacher(cfg: Config, teacher: dict, path) -> Config:
    cfg.model.teacher = dict(config=teacher['config'], checkpoint=str(path))
    return cfg


def recipe_with_tiny_teacher(name: str, path) -> Config:
    """:func:`recipe` ``name`` with a tiny teacher saved at ``path``."""
    return with_tiny_teacher(recipe(name), save_teacher(path), path)


def train_steps(cfg: Config,
                steps: int = 2,
                size: int = 16) -> List[Dict[str, float]]:
    """Build ``cfg.model`` and run ``train_step`` with its optim wrapper."""
    model = build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    logs = []
    for step in range(steps):
        out = model.train_step(batch(4, size, seed=step), optim_wrapper)
        logs.append({k: float(v) for k, v in out.items()})
    return logs


def deployable_state_dict(model) -> Dict[str, torch.Tensor]:
    """The weights a plain ``ImageClassifier`` has: backbone, neck, head."""
    return {
        k: v
        for k, v in model.state_dict().items()
        if k.startswith(('backbone.', 'neck.', 'head.'))
    }


def assert_deployable_like_plain(model, plain_cfg: dict, size: int = 16):
    """Same keys and shapes as a plain classifier; it loads them strictly
    and then predicts exactly what ``model`` predicts."""
    plain = build(plain_cfg, seed=123)
    deploy = deployable_state_dict(model)
    expected = plain.state_dict()
    assert list(deploy) == list(expected)
    for key, value in expected.items():
        assert deploy[key].shape == value.shape, key
    plain.load_state_dict(deploy, strict=True)
    model.eval()
    plain.eval()
    x = torch.randn(2, 3, size, size)
    torch.testing.assert_close(model(x), plain(x))
