"""Auxiliary branches: fresh copies of a ResNet's remaining stages.

MixSKD (reference-methods.md section 1.4) attaches a branch after each of the
stages 1-3 of the backbone. Branch ``k`` runs the stage-``k`` output through
its own copies of stages ``k+1 .. 4`` and ends at the final resolution and
width, where its own classifier reads it.
"""
import copy
from typing import List

import torch.nn as nn
from mmengine.model import BaseModule, ModuleList
from torch import Tensor

from .checkpointing import checkpointed_blocks

__all__ = [
    'backbone_stages', 'AuxiliaryBranch', 'build_branches',
    'layerwise_init_cfg'
]

BRANCH_DEPTHS = ('full', 'light')


def backbone_stages(backbone: nn.Module) -> List[nn.Module]:
    """The residual stages of an mmpretrain/mmdet/mmseg ResNet-like backbone.

    Raises:
        TypeError: When the backbone has no ``res_layers`` list (ResNet,
            ResNet_CIFAR, ResNetV1c/d, ResNeXt ... have one).
    """
    names = getattr(backbone, 'res_layers', None)
    if not names:
        raise TypeError(
            f'{type(backbone).__name__} has no `res_layers`: auxiliary '
            'branches are built from the stages of a ResNet-family backbone '
            '(mmpretrain ResNet, ResNet_CIFAR, ResNetV1c, ResNeXt, ...).')
    return [getattr(backbone, name) for name in names]


def _reset_parameters(module: nn.Module) -> None:
    """Give a deep copy its own random weights."""
    for m in module.modules():
        if m is not module and hasattr(m, 'reset_parameters'):
            m.reset_parameters()


class AuxiliaryBranch(BaseModule):
    """Own copies of the stages after stage ``start``.

    Args:
        stages (list[nn.Module]): All residual stages of the backbone.
        start (int): 0-based index of the stage whose output the branch
            reads; it copies ``stages[start + 1:]``.
        depth (str): 'full' copies each stage whole (the released ImageNet
            recipe); 'light' keeps only its first block, the one that changes
            resolution and width (the first upload of the authors' code).
            Defaults to 'full'.
        with_cp (bool): Activation checkpointing, block by block: in
            training only each block's input is kept for backward and its
            activations are recomputed there (one more forward of the
            branch), with bit-for-bit the same loss, gradients and BN running
            statistics (:mod:`.checkpointing`). Defaults to False.
        init_cfg (dict | list[dict], optional): Defaults to Kaiming for
            convolutions and 1 / 0 for norm layers, like mmpretrain's ResNet
            (:func:`build_branches` passes the backbone's own rules).

    Shapes:
        input: (N, C_start, H_start, W_start), the backbone's stage output.
        output: (N, C_last, H_last, W_last), as the backbone's last stage.
    """

    def __init__(self,
                 stages: List[nn.Module],
                 start: int,
                 depth: str = 'full',
                 with_cp: bool = False,
                 init_cfg=None):
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer=['Conv2d']),
                dict(type='Constant', val=1, layer=['_BatchNorm'])
            ]
        super().__init__(init_cfg=init_cfg)
        if depth not in BRANCH_DEPTHS:
            raise ValueError(
                f'branch depth must be one of {BRANCH_DEPTHS}, got {depth!r}')
        if not 0 <= start < len(stages) - 1:
            raise ValueError(f'a branch must start before the last stage; '
                             f'got start={start} for {len(stages)} stages')
        layers = []
        for stage in stages[start + 1:]:
            stage = copy.deepcopy(stage)
            if depth == 'light':
                stage = nn.Sequential(stage[0])
            layers.append(stage)
        self.layers = nn.Sequential(*layers)
        _reset_parameters(self.layers)
        self.layers.requires_grad_(True)  # even if the backbone froze them
        self.with_cp = bool(with_cp)

    def forward(self, x: Tensor) -> Tensor:
        if self.with_cp and self.training:
            return checkpointed_blocks(
                (block for stage in self.layers for block in stage), x)
        return self.layers(x)


def build_branches(backbone: nn.Module,
                   depth: str = 'full',
                   with_cp: bool = False) -> ModuleList:
    """One :class:`AuxiliaryBranch` after every stage but the last."""
    stages = backbone_stages(backbone)
    init_cfg = layerwise_init_cfg(backbone)
    return ModuleList(
        AuxiliaryBranch(stages, k, depth, with_cp, init_cfg=init_cfg)
        for k in range(len(stages) - 1))


def layerwise_init_cfg(backbone: nn.Module):
    """The backbone's per-layer init rules, for the copies of its stages.

    The branches are initialised like the backbone they copy (the authors'
    branches: Kaiming fan-out on ImageNet, PyTorch's defaults on CIFAR),
    never with a zero-initialised residual BN. Rules without ``layer``
    (checkpoint loads such as ``Pretrained``) are not copied.

    Returns:
        list[dict] | None: None (the :class:`AuxiliaryBranch` default) when
        the backbone has no per-layer rule.
    """
    cfg = getattr(backbone, 'init_cfg', None)
    cfgs = cfg if isinstance(cfg, (list, tuple)) else [cfg]
    rules = [dict(c) for c in cfgs if isinstance(c, dict) and 'layer' in c]
    return rules or None
