"""FRSKD's BiFPN self-teacher (Ji et al., CVPR 2021, arXiv 2103.08273).

The ``BiFPNc`` variant of the released code (``classification/models/
bifpnc.py``, one ``BiFPN_layer``; reference-methods.md section 2.1): level
``i`` keeps ``width * C_i`` channels, one top-down and one bottom-up pass with
fast normalised fusion weights. As in the released layer, every input of
every fusion goes through a ReLU (the lateral inputs, the upper level before
upsampling, the top-down map fed into the bottom-up fusion, the lower output
before downsampling), every refined map is returned after a ReLU (so all are
>= 0), and downsampling is a TensorFlow-style static "same" 3x3/2 max-pool.
"""
import math
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule, ModuleList
from mmpretrain.registry import MODELS
from torch import Tensor

__all__ = ['FRSKDBiFPN', 'same_max_pool', 'upsample_to', 'fusion_weights']


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


def same_max_pool(x: Tensor, kernel_size: int = 3, stride: int = 2) -> Tensor:
    """Max-pool with TensorFlow's static "same" padding (zeros).

    Each spatial side of length ``L`` is padded by
    ``p = max((ceil(L / s) - 1) * s + k - L, 0)`` zeros, ``p // 2`` before and
    the rest after, so the output has ``ceil(L / s)`` positions. For the 3x3
    stride-2 window: an even side is padded 0 before and 1 after (window ``j``
    covers ``2j .. 2j + 2``), an odd side 1 before and 1 after (window ``j``
    covers ``2j - 1 .. 2j + 1``). This is the released
    ``MaxPool2dStaticSamePadding(3, 2)``; ``nn.MaxPool2d(3, 2, padding=1)``
    differs on even sides.

    Args:
        x (Tensor): Shape (N, C, H, W).
        kernel_size (int): Square window. Defaults to 3.
        stride (int): Defaults to 2.

    Returns:
        Tensor: Shape (N, C, ceil(H / stride), ceil(W / stride)).
    """
    pads = []
    for length in reversed(x.shape[-2:]):  # F.pad wants W first
        total = max((math.ceil(length / stride) - 1) * stride + kernel_size -
                    length, 0)
        pads += [total // 2, total - total // 2]
    return F.max_pool2d(F.pad(x, pads), kernel_size, stride)


def upsample_to(x: Tensor, size: Tuple[int, int]) -> Tensor:
    """Nearest x2 upsampling, cropped to ``size`` (bottom/right).

    Equals the released ``nn.Upsample(scale_factor=2, mode='nearest')`` when
    ``size`` is exactly twice the input (where the released code works); for
    an odd lower level (``H_i = 2 H_{i+1} - 1``) the extra last row/column is
    dropped.

    Args:
        x (Tensor): Shape (N, C, h, w).
        size (tuple[int, int]): ``(H, W)`` with ``H <= 2h`` and ``W <= 2w``.
    """
    h, w = size
    if h > 2 * x.shape[-2] or w > 2 * x.shape[-1]:
        raise ValueError(
            f'FRSKDBiFPN: a level of size {tuple(x.shape[-2:])} cannot be '
            f'upsampled x2 to the level below, of size {(h, w)}: each level '
            'must have half (rounded up) the size of the level before')
    return F.interpolate(x, scale_factor=2, mode='nearest')[..., :h, :w]


@MODELS.register_module()
class FRSKDBiFPN(BaseModule):
    """Top-down then bottom-up fusion of the backbone's stages.

    With ``R`` for ReLU, ``L_i``/``L2_i`` the two 1x1 lateral blocks, ``U_i``
    and ``D_i`` the 1x1 blocks after upsampling / downsampling, ``B`` the
    depthwise fusion blocks and ``w`` the normalised fusion weights::

        x_i = L_i(R(f_i))
        p_top = x_top
        p_i = B(w0 * R(x_i) + w1 * U_i(up2(R(p_{i+1}))))    (top-down)
        o_0 = p_0
        o_i = B(w0 * R(L2_i(R(f_i))) + w1 * R(p_i)
                + w2 * D_i(same_max_pool(R(o_{i-1}))))       (bottom-up)
        o_top = B(w0 * R(L2_top(R(f_top)))
                  + w1 * D_top(same_max_pool(R(o_{top-1}))))
        output: R(o_i) for every level

    Args:
        in_channels (Sequence[int]): Channels of the input levels, shallow
            to deep, e.g. (64, 128, 256, 512) for ResNet-18.
        width (float): Each level keeps ``width * in_channels[i]`` channels.
            Defaults to 2 (``BiFPNc``).
        depth (int): Repeats in each fusion's depthwise block. Defaults to 2.
        init_cfg (dict, optional): Defaults to None.

    Shapes:
        input: a sequence of (N, C_i, H_i, W_i) with
            ``H_{i+1} = ceil(H_i / 2)`` (likewise W), e.g. a ResNet's stages.
        output: a tuple of (N, width * C_i, H_i, W_i), the refined maps, all
            >= 0.
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
        # Bottom-up path: second lateral, downsample + 1x1, fusion block;
        # three fusion weights per level, two for the deepest (no top-down
        # input there).
        self.bu_lateral = ModuleList(
            conv1x1_bn_relu(ins[i], outs[i]) for i in range(1, n))
        self.bu_resample = ModuleList(
            conv1x1_bn_relu(outs[i - 1], outs[i]) for i in range(1, n))
        self.bu_fuse = ModuleList(
            DepthConvBlock(outs[i], depth) for i in range(1, n))
        self.bu_weights = nn.ParameterList(
            nn.Parameter(torch.ones(3 if i < n - 1 else 2))
            for i in range(1, n))

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        if len(feats) != len(self.in_channels):
            raise ValueError(f'FRSKDBiFPN expects {len(self.in_channels)} '
                             f'levels, got {len(feats)}')
        n = len(feats)
        feats = [F.relu(f) for f in feats]
        lateral = [conv(f) for conv, f in zip(self.td_lateral, feats)]
        top_down = [None] * n
        top_down[-1] = lateral[-1]
        for i in reversed(range(n - 1)):
            w = fusion_weights(self.td_weights[i])
            up = self.td_resample[i](
                upsample_to(F.relu(top_down[i + 1]), lateral[i].shape[-2:]))
            top_down[i] = self.td_fuse[i](w[0] * F.relu(lateral[i]) +
                                          w[1] * up)
        outs = [top_down[0]]
        for i in range(1, n):
            w = fusion_weights(self.bu_weights[i - 1])
            down = same_max_pool(F.relu(outs[-1]))
            if down.shape[-2:] != feats[i].shape[-2:]:
                raise ValueError(
                    f'FRSKDBiFPN: level {i} has size '
                    f'{tuple(feats[i].shape[-2:])} but the same-padded '
                    f'3x3/2 max-pool of level {i - 1} gives '
                    f'{tuple(down.shape[-2:])}: each level must have half '
                    '(rounded up) the size of the level before')
            down = self.bu_resample[i - 1](down)
            fused = w[0] * F.relu(self.bu_lateral[i - 1](feats[i]))
            if i < n - 1:
                fused = fused + w[1] * F.relu(top_down[i]) + w[2] * down
            else:  # the deepest level: no separate top-down input
                fused = fused + w[1] * down
            outs.append(self.bu_fuse[i - 1](fused))
        return tuple(F.relu(o) for o in outs)
