"""Stages of the ResNet family: ResNet, ResNet_CIFAR, ResNetV1c/d, ResNeXt,
RegNet (mmpretrain, mmdet and mmseg classes alike), read through their
``res_layers``."""
from typing import List, Tuple

import torch.nn as nn

from .base import STAGE_ADAPTERS, Stage, StageAdapter

__all__ = ['ResNetStages']


@STAGE_ADAPTERS.register_module()
class ResNetStages(StageAdapter):
    """Each residual layer (``layer1`` ... ``layer4``) is a stage; its first
    block changes resolution and width."""

    family = 'ResNet, ResNeXt, RegNet'

    @classmethod
    def supports(cls, backbone: nn.Module) -> bool:
        names = getattr(backbone, 'res_layers', None)
        return isinstance(names, (list, tuple)) and len(names) > 0

    def _layers(self) -> List[nn.Sequential]:
        return [getattr(self.backbone, n) for n in self.backbone.res_layers]

    @property
    def out_indices(self) -> Tuple[int, ...]:
        return tuple(range(len(self.backbone.res_layers)))

    @property
    def channels(self) -> List[int]:
        return [layer[-1].out_channels for layer in self._layers()]

    def stages(self) -> List[Stage]:
        return [
            Stage(blocks=list(layer), shape_blocks=frozenset({0}))
            for layer in self._layers()
        ]

    def stage_output_modules(self) -> List[nn.Module]:
        return self._layers()

    def checkpoint_backbone(self) -> None:
        # A ResLayer is an nn.Sequential of single-tensor blocks: one
        # checkpointed forward per layer, as before adapters existed.
        from ..utils.checkpointing import enable_checkpointing
        for layer in self._layers():
            enable_checkpointing(layer)
