"""Helpers for the FRSKD, Cut^nMix, MIX-KD, KD and mixed-baseline tests.

Not a test module. The tests import it with ``sys.path`` pointed at this
folder (pytest runs with ``--import-mode=importlib``).
"""
import copy
import os.path as osp
from typing import Dict, List, Optional, Set

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mixskd_mm  # noqa: F401  (registers the models)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
NUM_CLASSES = 5
NORM = dict(mean=[127.5] * 3, std=[64.] * 3)


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


def batch(n: int = 4, size: int = 16, seed: int = 0) -> dict:
    """A raw data batch as a dataloader gives it: uint8 images, labels."""
    g = torch.Generator().manual_seed(seed)
    return dict(
        inputs=[
            torch.randint(
                0, 256, (3, size, size), dtype=torch.uint8, generator=g)
            for _ in range(n)
        ],
        data_samples=[
            DataSample().set_gt_label(i % NUM_CLASSES) for i in range(n)
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


def with_tiny_teacher(cfg: Config, teacher: dict, path) -> Config:
    cfg.model.teacher = dict(config=teacher['config'], checkpoint=str(path))
    return cfg


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
