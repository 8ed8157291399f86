"""FRSKD's BiFPN self-teacher (Ji et al., CVPR 2021, arXiv 2103.08273).

The ``BiFPNc`` variant of the released code (reference-methods.md section
2.1): level ``i`` keeps ``width * C_i`` channels, one top-down and one
bottom-up pass with fast normalised fusion weights.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule, ModuleList
from mmpretrain.registry import MODELS
from torch import Tensor

__all__ = ['FRSKDBiFPN']


def conv1x1_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """The 1x1 conv block: conv, BN, ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class DepthConvBlock(nn.Sequential):
    """``depth`` x (depthwise 3x3, pointwise 1x1, BN), ReLU in between."""

    def __init__(self, channels: int, depth: int = 2):
        layers: List[nn.Module] = []
        for i in range(depth):
            if i:
                layers.append(nn.ReLU(inplace=True))
            layers += [
                nn.Conv2d(
                    channels, channels, 3, padding=1, groups=channels,
                    bias=False),
                nn.Conv2d(channels, channels, 1, bias=False),
                nn.BatchNorm2d(channels)
            ]
        super().__init__(*layers)


def fusion_weights(w: Tensor, eps: float = 1e-6) -> Tensor:
    """Fast normalised fusion: ``relu(w) / (sum(relu(w)) + eps)``."""
    w = F.relu(w)
    return w / (w.sum() + eps)


def downsample_to(x: Tensor, size: Tuple[int, int]) -> Tensor:
    """3x3 stride-2 max-pool with same padding, matched to ``size``."""
    x = F.max_pool2d(x, kernel_size=3, stride=2, padding=1)
    if x.shape[-2:] != size:
        x = F.adaptive_max_pool2d(x, size)
    return x


@MODELS.register_module()
class FRSKDBiFPN(BaseModule):
    """Top-down then bottom-up fusion of the backbone's stages.

    Args:
        in_channels (Sequence[int]): Channels of the input levels, shallow
            to deep, e.g. (64, 128, 256, 512) for ResNet-18.
        width (float): Each level keeps ``width * in_channels[i]`` channels.
            Defaults to 2 (``BiFPNc``).
        depth (int): Repeats in each fusion's depthwise block. Defaults to 2.
        init_cfg (dict, optional): Defaults to None.

    Shapes:
        input: a sequence of (N, C_i, H_i, W_i), H_i halving with depth.
        output: a tuple of (N, width * C_i, H_i, W_i), the refined maps.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 width: float = 2,
                 depth: int = 2,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) < 2:
            raise ValueError('FRSKDBiFPN fuses at least two levels, got '
                             f'in_channels={in_channels}')
        self.in_channels = list(in_channels)
        self.out_channels = [int(width * c) for c in in_channels]
        ins, outs, n = self.in_channels, self.out_channels, len(in_channels)
        # Top-down path: lateral 1x1, upsample + 1x1 to match, fusion block.
        self.td_lateral = ModuleList(
            conv1x1_bn_relu(i, o) for i, o in zip(ins, outs))
        self.td_resample = ModuleList(
            conv1x1_bn_relu(outs[i + 1], outs[i]) for i in range(n - 1))
        self.td_fuse = ModuleList(
            DepthConvBlock(outs[i], depth) for i in range(n - 1))
        self.td_weights = nn.Parameter(torch.ones(n - 1, 2))
        # Bottom-up path: second lateral, downsample + 1x1, fusion block.
        self.bu_lateral = ModuleList(
            conv1x1_bn_relu(ins[i], outs[i]) for i in range(1, n))
        self.bu_resample = ModuleList(
            conv1x1_bn_relu(outs[i - 1], outs[i]) for i in range(1, n))
        self.bu_fuse = ModuleList(
            DepthConvBlock(outs[i], depth) for i in range(1, n))
        self.bu_weights = nn.Parameter(torch.ones(n - 1, 3))

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        if len(feats) != len(self.in_channels):
            raise ValueError(f'FRSKDBiFPN expects {len(self.in_channels)} '
                             f'levels, got {len(feats)}')
        n = len(feats)
        lateral = [conv(f) for conv, f in zip(self.td_lateral, feats)]
        top_down = [None] * n
        top_down[-1] = lateral[-1]
        for i in reversed(range(n - 1)):
            up = F.interpolate(
                top_down[i + 1], size=lateral[i].shape[-2:], mode='nearest')
            w = fusion_weights(self.td_weights[i])
            top_down[i] = self.td_fuse[i](
                w[0] * lateral[i] + w[1] * self.td_resample[i](up))
        outs = [top_down[0]]
        for i in range(1, n):
            down = self.bu_resample[i - 1](
                downsample_to(outs[-1], feats[i].shape[-2:]))
            lateral2 = self.bu_lateral[i - 1](feats[i])
            if i < n - 1:
                w = fusion_weights(self.bu_weights[i - 1])
                fused = w[0] * lateral2 + w[1] * top_down[i] + w[2] * down
            else:  # the deepest level has no separate top-down input
                w = fusion_weights(self.bu_weights[i - 1, :2])
                fused = w[0] * lateral2 + w[1] * down
            outs.append(self.bu_fuse[i - 1](fused))
        return tuple(outs)
