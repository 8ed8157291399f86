"""Auxiliary branches with a chosen number of blocks per copied stage.

BYOT and DKS as released in Self-KD-Lib (``models/resnet.py``,
``CIFAR_ResNet(branch_layers=...)``) attach a branch after stages 2 and 3 of
the ResNet. Each runs the stage output through fresh copies of the later
stages, but with its own block count per copied stage: BYOT
``[[1, 1], [1]]``, DKS ``[[1, 2], [2]]``. :class:`AuxiliaryBranch` takes the
counts; this subclass checks them; copying, initialisation and
checkpointing stay those of :class:`AuxiliaryBranch`.
"""
from typing import List, Optional, Sequence

import torch.nn as nn
from mmengine.model import ModuleList

from ...utils.validate import check_number
from ..stages import Stage, stage_adapter
from .branches import AuxiliaryBranch

__all__ = ['StageCopyBranch', 'build_stage_copy_branches']


class StageCopyBranch(AuxiliaryBranch):
    """Own copies of the stages after stage ``start``, ``num_blocks`` deep.

    Copied stage ``j`` keeps its first ``num_blocks[j]`` blocks (with its
    entry and exit, as in the backbone); a count above the stage's own depth
    appends fresh copies of its last (shape-keeping) block.

    Args:
        stages (list[Stage]): All stages of the backbone.
        start (int): 0-based index of the stage whose output the branch
            reads; it copies ``stages[start + 1:]``.
        num_blocks (Sequence[int]): Blocks of each copied stage, one int
            >= 1 per stage after ``start``.
        with_cp (bool): Exact block-by-block activation checkpointing, as in
            :class:`AuxiliaryBranch`. Defaults to False.
        init_cfg (dict | list[dict], optional): As in
            :class:`AuxiliaryBranch`.
        out_norm (nn.Module, optional): As in :class:`AuxiliaryBranch`.

    Shapes:
        input: (N, C_start, H_start, W_start), the backbone's stage output.
        output: (N, C_last, H_last, W_last), as the backbone's last stage.
    """

    def __init__(self,
                 stages: List[Stage],
                 start: int,
                 num_blocks: Sequence[int],
                 with_cp: bool = False,
                 init_cfg=None,
                 out_norm: Optional[nn.Module] = None):
        if isinstance(num_blocks, (str, bytes)) or not hasattr(
                num_blocks, '__len__'):
            raise TypeError(f'num_blocks of the branch after stage {start} '
                            f'must be a sequence of ints, got {num_blocks!r}')
        num_blocks = [
            check_number(n, f'num_blocks[{j}] of the branch after stage '
                         f'{start}', 1, integer=True)
            for j, n in enumerate(num_blocks)
        ]
        copied = len(stages) - 1 - start
        if start < len(stages) - 1 and len(num_blocks) != copied:
            raise ValueError(
                f'the branch after stage {start} copies {copied} '
                f'stage(s) and needs one block count for each, got '
                f'num_blocks={num_blocks}')
        super().__init__(stages, start, 'full', with_cp, init_cfg=init_cfg,
                         out_norm=out_norm, num_blocks=num_blocks)
        self.num_blocks = tuple(num_blocks)


def build_stage_copy_branches(backbone: nn.Module,
                              starts: Sequence[int],
                              num_blocks: Sequence[Sequence[int]],
                              with_cp: bool = False) -> ModuleList:
    """One :class:`StageCopyBranch` per start stage, initialised like the
    backbone (``StageAdapter.branch_init_cfg``).

    Args:
        backbone (nn.Module): A backbone with a stage adapter.
        starts (Sequence[int]): 0-based stage indices the branches read.
        num_blocks (Sequence[Sequence[int]]): Block counts per branch.
        with_cp (bool): Checkpoint the branches. Defaults to False.
    """
    if len(starts) != len(num_blocks):
        raise ValueError(
            f'{len(starts)} branch stage(s) {tuple(starts)} but '
            f'{len(num_blocks)} block-count list(s) {tuple(num_blocks)}: give '
            'one list per branch')
    adapter = stage_adapter(backbone)
    stages = adapter.stages()
    return ModuleList(
        StageCopyBranch(stages, k, n, with_cp,
                        init_cfg=adapter.branch_init_cfg(),
                        out_norm=adapter.out_norm(len(stages) - 1))
        for k, n in zip(starts, num_blocks))
