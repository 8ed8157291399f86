"""Stages of mmpretrain's MobileNetV2: its layer groups at strides 4-32."""
from typing import List, Tuple

import torch.nn as nn

from .base import STAGE_ADAPTERS, Stage, StageAdapter

__all__ = ['MobileNetV2Stages']

#: ``out_indices`` of the last layer at strides 4, 8, 16 and 32
#: (``layer2``, ``layer3``, ``layer5`` and the final ``conv2``).
OUT_INDICES = (1, 2, 4, 7)


def _out_channels(module: nn.Module) -> int:
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1].out_channels


@STAGE_ADAPTERS.register_module()
class MobileNetV2Stages(StageAdapter):
    """MobileNetV2's seven inverted-residual layers and its last 1x1
    convolution, grouped by resolution: ``layer1-2`` (stride 4),
    ``layer3`` (8), ``layer4-5`` (16), ``layer6-7`` + ``conv2`` (32). The
    first block of every layer changes the width, so a shortened copy keeps
    it."""

    family = 'MobileNetV2'

    @classmethod
    def supports(cls, backbone: nn.Module) -> bool:
        from mmpretrain.models.backbones import MobileNetV2
        return isinstance(backbone, MobileNetV2)

    @property
    def out_indices(self) -> Tuple[int, ...]:
        return OUT_INDICES

    def _groups(self) -> List[List[nn.Module]]:
        layers = [getattr(self.backbone, n) for n in self.backbone.layers]
        starts = (0, ) + tuple(i + 1 for i in OUT_INDICES[:-1])
        return [layers[s:e + 1] for s, e in zip(starts, OUT_INDICES)]

    @property
    def channels(self) -> List[int]:
        return [_out_channels(group[-1]) for group in self._groups()]

    def stages(self) -> List[Stage]:
        stages = []
        for group in self._groups():
            exit_ = None
            if not isinstance(group[-1], nn.Sequential):  # conv2
                exit_, group = group[-1], group[:-1]
            blocks, shape_blocks = [], set()
            for layer in group:
                shape_blocks.add(len(blocks))
                blocks.extend(layer)
            stages.append(
                Stage(blocks=blocks, exit=exit_,
                      shape_blocks=frozenset(shape_blocks)))
        return stages

    def stage_output_modules(self) -> List[nn.Module]:
        return [group[-1] for group in self._groups()]
