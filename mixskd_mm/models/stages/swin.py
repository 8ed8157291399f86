"""Stages of mmpretrain's Swin Transformer (v1).

Swin runs on token sequences ``(N, H * W, C)`` with the map size passed
alongside. The stage copies of a branch run on maps instead, like every
other family's, so each Swin module is wrapped to take and return an
``(N, C, H, W)`` tensor (tokens in row-major order, the layout the backbone
returns its outputs in).
"""
from typing import List, Optional, Tuple

import torch.nn as nn
from torch import Tensor

from ..utils.checkpointing import enable_checkpointing_forward
from .base import STAGE_ADAPTERS, Stage, StageAdapter

__all__ = ['SwinStages', 'MapBlock', 'MapPatchMerging', 'MapLayerNorm']


def _tokens(x: Tensor) -> Tensor:
    """(N, C, H, W) -> (N, H * W, C)."""
    return x.flatten(2).transpose(1, 2).contiguous()


def _map(tokens: Tensor, hw: Tuple[int, int]) -> Tensor:
    """(N, H * W, C) -> (N, C, H, W)."""
    return tokens.transpose(1, 2).reshape(tokens.size(0), -1, *hw)


class MapBlock(nn.Module):
    """A Swin block on maps: (N, C, H, W) -> (N, C, H, W)."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.block = block

    def forward(self, x: Tensor) -> Tensor:
        hw = tuple(x.shape[-2:])
        return _map(self.block(_tokens(x), hw), hw)


class MapPatchMerging(nn.Module):
    """Swin's patch merging on maps: (N, C, H, W) -> (N, C', H/2, W/2)."""

    def __init__(self, merge: nn.Module):
        super().__init__()
        self.merge = merge

    def forward(self, x: Tensor) -> Tensor:
        tokens, hw = self.merge(_tokens(x), tuple(x.shape[-2:]))
        return _map(tokens, tuple(hw))


class MapLayerNorm(nn.Module):
    """A channel LayerNorm of tokens applied to a map."""

    def __init__(self, norm: nn.Module):
        super().__init__()
        self.norm = norm

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


@STAGE_ADAPTERS.register_module()
class SwinStages(StageAdapter):
    """Stage ``i`` is the patch merging that ends ``stages[i - 1]`` (for
    ``i > 0``) then the blocks of ``stages[i]``; the backbone returns
    ``norm{i}`` of its output. Needs ``out_after_downsample=False`` (the
    default)."""

    family = 'Swin Transformer'

    @classmethod
    def supports(cls, backbone: nn.Module) -> bool:
        from mmpretrain.models.backbones import SwinTransformer
        return isinstance(backbone, SwinTransformer)

    @property
    def out_indices(self) -> Tuple[int, ...]:
        return tuple(range(len(self.backbone.stages)))

    @property
    def channels(self) -> List[int]:
        return list(self.backbone.num_features)

    def stages(self) -> List[Stage]:
        seqs = self.backbone.stages
        return [
            Stage(
                blocks=[MapBlock(block) for block in seq.blocks],
                entry=(MapPatchMerging(seqs[i - 1].downsample)
                       if i > 0 else None)) for i, seq in enumerate(seqs)
        ]

    def out_norm(self, index: int) -> Optional[nn.Module]:
        return MapLayerNorm(getattr(self.backbone, f'norm{index}'))

    def stage_output_modules(self) -> List[nn.Module]:
        return list(self.backbone.stages)

    def stage_input_module(self) -> nn.Module:
        return self.backbone.stages[0]

    def checkpoint_backbone(self) -> None:
        for seq in self.backbone.stages:
            for block in seq.blocks:
                enable_checkpointing_forward(block)

    @classmethod
    def default_init_cfg(cls):
        # mmpretrain's Swin recipes initialise the Linear layers so.
        return [
            dict(type='TruncNormal', layer=['Linear'], std=.02, bias=0.),
            dict(type='Constant', layer=['LayerNorm'], val=1., bias=0.)
        ]

    def check_outputs(self, method: str) -> None:
        super().check_outputs(method)
        if self.backbone.out_after_downsample:
            raise ValueError(
                f'{method} reads each stage before its patch merging: set '
                'backbone.out_after_downsample=False')
