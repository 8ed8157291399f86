"""Stages of mmpretrain's ConvNeXt (v1 and v2)."""
from typing import List, Optional, Tuple

import torch.nn as nn

from .base import STAGE_ADAPTERS, Stage, StageAdapter

__all__ = ['ConvNeXtStages']


@STAGE_ADAPTERS.register_module()
class ConvNeXtStages(StageAdapter):
    """Stage ``i`` is ``downsample_layers[i]`` (LayerNorm + 2x2 convolution;
    the stem for ``i = 0``) then ``stages[i]``; the backbone returns
    ``norm{i}`` of its output. The output must stay a map:
    ``gap_before_final_norm=False``."""

    family = 'ConvNeXt'

    @classmethod
    def supports(cls, backbone: nn.Module) -> bool:
        from mmpretrain.models.backbones import ConvNeXt
        return isinstance(backbone, ConvNeXt)

    @property
    def out_indices(self) -> Tuple[int, ...]:
        return tuple(range(len(self.backbone.stages)))

    @property
    def channels(self) -> List[int]:
        return list(self.backbone.channels)

    def stages(self) -> List[Stage]:
        b = self.backbone
        return [
            Stage(blocks=list(stage), entry=b.downsample_layers[i])
            for i, stage in enumerate(b.stages)
        ]

    def out_norm(self, index: int) -> Optional[nn.Module]:
        return getattr(self.backbone, f'norm{index}')

    def stage_output_modules(self) -> List[nn.Module]:
        return list(self.backbone.stages)

    @classmethod
    def default_init_cfg(cls):
        return [
            dict(type='TruncNormal', layer=['Conv2d', 'Linear'], std=.02,
                 bias=0.),
            dict(type='Constant', layer=['LayerNorm'], val=1., bias=0.)
        ]

    def check_outputs(self, method: str) -> None:
        super().check_outputs(method)
        if self.backbone.gap_before_final_norm:
            raise ValueError(
                f'{method} reads the stage outputs as feature maps, but '
                'ConvNeXt(gap_before_final_norm=True) pools them to vectors: '
                'set backbone.gap_before_final_norm=False and pool in the '
                "neck (neck=dict(type='GlobalAveragePooling'))")
