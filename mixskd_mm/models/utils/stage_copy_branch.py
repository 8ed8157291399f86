"""Auxiliary branches with a chosen number of blocks per copied stage.

BYOT and DKS as released in Self-KD-Lib (``models/resnet.py``,
``CIFAR_ResNet(branch_layers=...)``) attach a branch after stages 2 and 3 of
the ResNet. Each runs the stage output through fresh copies of the later
stages, but with its own block count per copied stage: BYOT
``[[1, 1], [1]]``, DKS ``[[1, 2], [2]]``. :class:`AuxiliaryBranch` offers
only whole stages ('full') or one block each ('light'), so this subclass
takes the counts; copying, initialisation and checkpointing stay those of
:class:`AuxiliaryBranch`.
"""
import copy
from typing import List, Sequence

import torch.nn as nn
from mmengine.model import ModuleList

from ...utils.validate import check_number
from .branches import AuxiliaryBranch, backbone_stages, layerwise_init_cfg

__all__ = ['StageCopyBranch', 'build_stage_copy_branches']


def _fresh_copy(block: nn.Module) -> nn.Module:
    """A deep copy of ``block`` with its own random weights."""
    block = copy.deepcopy(block)
    for m in block.modules():
        if hasattr(m, 'reset_parameters'):
            m.reset_parameters()
    return block


class StageCopyBranch(AuxiliaryBranch):
    """Own copies of the stages after stage ``start``, ``num_blocks`` deep.

    Copied stage ``j`` keeps its first ``num_blocks[j]`` blocks (the first
    one changes resolution and width, as in the backbone); a count above the
    stage's own depth appends fresh copies of its last (shape-keeping) block.

    Args:
        stages (list[nn.Module]): All residual stages of the backbone.
        start (int): 0-based index of the stage whose output the branch
            reads; it copies ``stages[start + 1:]``.
        num_blocks (Sequence[int]): Blocks of each copied stage, one int
            >= 1 per stage after ``start``.
        with_cp (bool): Exact block-by-block activation checkpointing, as in
            :class:`AuxiliaryBranch`. Defaults to False.
        init_cfg (dict | list[dict], optional): As in
            :class:`AuxiliaryBranch`.

    Shapes:
        input: (N, C_start, H_start, W_start), the backbone's stage output.
        output: (N, C_last, H_last, W_last), as the backbone's last stage.
    """

    def __init__(self,
                 stages: List[nn.Module],
                 start: int,
                 num_blocks: Sequence[int],
                 with_cp: bool = False,
                 init_cfg=None):
        super().__init__(stages, start, 'full', with_cp, init_cfg=init_cfg)
        if isinstance(num_blocks, (str, bytes)) or not hasattr(
                num_blocks, '__len__'):
            raise TypeError(f'num_blocks of the branch after stage {start} '
                            f'must be a sequence of ints, got {num_blocks!r}')
        num_blocks = [
            check_number(n, f'num_blocks[{j}] of the branch after stage '
                         f'{start}', 1, integer=True)
            for j, n in enumerate(num_blocks)
        ]
        if len(num_blocks) != len(self.layers):
            raise ValueError(
                f'the branch after stage {start} copies {len(self.layers)} '
                f'stage(s) and needs one block count for each, got '
                f'num_blocks={num_blocks}')
        layers = []
        for j, (stage, n) in enumerate(zip(self.layers, num_blocks)):
            blocks = list(stage)[:n]
            if n > len(stage) and len(stage) < 2:
                raise ValueError(
                    f'num_blocks[{j}]={n} of the branch after stage {start}: '
                    f'that stage has a single block, whose shape-changing '
                    'copy cannot be repeated; use 1')
            while len(blocks) < n:
                blocks.append(_fresh_copy(stage[-1]))
            layers.append(nn.Sequential(*blocks))
        self.layers = nn.Sequential(*layers)
        self.num_blocks = tuple(num_blocks)


def build_stage_copy_branches(backbone: nn.Module,
                              starts: Sequence[int],
                              num_blocks: Sequence[Sequence[int]],
                              with_cp: bool = False) -> ModuleList:
    """One :class:`StageCopyBranch` per start stage, initialised like the
    backbone (:func:`layerwise_init_cfg`).

    Args:
        backbone (nn.Module): A ResNet-family backbone.
        starts (Sequence[int]): 0-based stage indices the branches read.
        num_blocks (Sequence[Sequence[int]]): Block counts per branch.
        with_cp (bool): Checkpoint the branches. Defaults to False.
    """
    if len(starts) != len(num_blocks):
        raise ValueError(
            f'{len(starts)} branch stage(s) {tuple(starts)} but '
            f'{len(num_blocks)} block-count list(s) {tuple(num_blocks)}: give '
            'one list per branch')
    stages = backbone_stages(backbone)
    init_cfg = layerwise_init_cfg(backbone)
    return ModuleList(
        StageCopyBranch(stages, k, n, with_cp, init_cfg=init_cfg)
        for k, n in zip(starts, num_blocks))
