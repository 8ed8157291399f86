"""Auxiliary branches: fresh copies of a backbone's remaining stages.

MixSKD (reference-methods.md section 1.4) attaches a branch after each of the
stages 1-3 of the backbone. Branch ``k`` runs the stage-``k`` output through
its own copies of stages ``k+1 .. 4`` and ends at the final resolution and
width, where its own classifier reads it. The stages come from the
backbone's :class:`~mixskd_mm.models.stages.StageAdapter`, so any family
with an adapter (ResNet, ResNeXt, RegNet, ConvNeXt, Swin, MobileNetV2) gets
branches; where the backbone normalises its returned outputs (ConvNeXt,
Swin), a branch ends with its own copy of the last output norm, so that it
returns what the backbone's last stage returns.
"""
import copy
from typing import List, Optional, Sequence

import torch.nn as nn
from mmengine.model import BaseModule, ModuleList
from torch import Tensor

from ..stages import Stage, StageAdapter, stage_adapter
from .checkpointing import checkpointed_blocks

__all__ = ['AuxiliaryBranch', 'build_branches', 'fresh_copy']

BRANCH_DEPTHS = ('full', 'light')


def fresh_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` with its own random weights, trainable even
    if the original was frozen."""
    module = copy.deepcopy(module)
    for m in module.modules():
        if hasattr(m, 'reset_parameters'):
            m.reset_parameters()
    return module.requires_grad_(True)


class AuxiliaryBranch(BaseModule):
    """Own copies of the stages after stage ``start``.

    Args:
        stages (list[Stage]): All stages of the backbone
            (``StageAdapter.stages()``).
        start (int): 0-based index of the stage whose output the branch
            reads; it copies ``stages[start + 1:]``.
        depth (str): 'full' copies each stage whole (the released ImageNet
            recipe); 'light' keeps the fewest leading blocks that still give
            the stage's output shape (one for a ResNet stage: the first
            upload of the authors' code). Defaults to 'full'.
        num_blocks (Sequence[int], optional): Instead of ``depth``, the
            blocks of each copied stage (:class:`StageCopyBranch`).
        out_norm (nn.Module, optional): The backbone's norm of its last
            output; the branch ends with a fresh copy of it.
        with_cp (bool): Activation checkpointing, block by block: in
            training only each block's input is kept for backward and its
            activations are recomputed there (one more forward of the
            branch), with bit-for-bit the same loss, gradients and BN running
            statistics (:mod:`.checkpointing`). Defaults to False.
        init_cfg (dict | list[dict], optional): Defaults to
            ``StageAdapter.default_init_cfg()``: Kaiming for convolutions
            and 1 / 0 for BN layers, like mmpretrain's ResNet
            (:func:`build_branches` passes the backbone's own rules).

    Shapes:
        input: (N, C_start, H_start, W_start), the backbone's stage output.
        output: (N, C_last, H_last, W_last), as the backbone's last stage.
    """

    def __init__(self,
                 stages: List[Stage],
                 start: int,
                 depth: str = 'full',
                 with_cp: bool = False,
                 init_cfg=None,
                 out_norm: Optional[nn.Module] = None,
                 num_blocks: Optional[Sequence[int]] = None):
        if init_cfg is None:
            init_cfg = StageAdapter.default_init_cfg()
        super().__init__(init_cfg=init_cfg)
        if depth not in BRANCH_DEPTHS:
            raise ValueError(
                f'branch depth must be one of {BRANCH_DEPTHS}, got {depth!r}')
        if not 0 <= start < len(stages) - 1:
            raise ValueError(f'a branch must start before the last stage; '
                             f'got start={start} for {len(stages)} stages')
        copied = stages[start + 1:]
        if num_blocks is None:
            num_blocks = [
                s.light_depth() if depth == 'light' else len(s.blocks)
                for s in copied
            ]
        self.layers = nn.Sequential(*(
            nn.Sequential(*map(fresh_copy, self._stage_modules(s, n, start, j)))
            for j, (s, n) in enumerate(zip(copied, num_blocks))))
        self.out_norm = None if out_norm is None else fresh_copy(out_norm)
        self.with_cp = bool(with_cp)

    @staticmethod
    def _stage_modules(stage: Stage, n: int, start: int,
                       j: int) -> List[nn.Module]:
        """Entry, ``n`` blocks (appending copies of the last block when
        ``n`` exceeds the stage's depth) and exit of a copied stage."""
        where = f'num_blocks[{j}]={n} of the branch after stage {start}'
        if n < stage.light_depth():
            raise ValueError(
                f'{where}: that stage changes shape in its blocks '
                f'{sorted(stage.shape_blocks)}; a copy needs at least '
                f'{stage.light_depth()}')
        extra = n - len(stage.blocks)
        if extra > 0 and len(stage.blocks) - 1 in stage.shape_blocks:
            raise ValueError(
                f'{where}: the last block of that stage changes shape, so '
                f'its copies cannot be repeated; use at most '
                f'{len(stage.blocks)}')
        blocks = stage.blocks[:n] + [stage.blocks[-1]] * max(extra, 0)
        return [m for m in (stage.entry, *blocks, stage.exit) if m is not None]

    def forward(self, x: Tensor) -> Tensor:
        if self.with_cp and self.training:
            x = checkpointed_blocks(
                (block for stage in self.layers for block in stage), x)
        else:
            x = self.layers(x)
        return x if self.out_norm is None else self.out_norm(x)


def build_branches(backbone: nn.Module,
                   depth: str = 'full',
                   with_cp: bool = False) -> ModuleList:
    """One :class:`AuxiliaryBranch` after every stage but the last,
    initialised like the backbone (``StageAdapter.branch_init_cfg``)."""
    adapter = stage_adapter(backbone)
    stages = adapter.stages()
    return ModuleList(
        AuxiliaryBranch(
            stages,
            k,
            depth,
            with_cp,
            init_cfg=adapter.branch_init_cfg(),
            out_norm=adapter.out_norm(len(stages) - 1))
        for k in range(len(stages) - 1))
