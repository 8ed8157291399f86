"""The SAD term and its attention map, named after the loss key.

SAD, "Learning Lightweight Lane Detection CNNs by Self Attention
Distillation" (Hou et al., ICCV 2019, https://arxiv.org/abs/1908.00821), as
released in Self-KD-Lib for classification (``methods/sad.py``)::

    L = CE(z, y) + 1000 * sum_m mean((A(S_m) - A(up(sg S_{m+1}))) ** 2)

``S_m`` the backbone's stage ``m``; ``up`` bilinear upsampling of the
*feature map* to stage ``m``'s resolution (the released ``scale_factor=2``,
``align_corners=False``), before its attention is taken; ``A`` the
spatial softmax of the channel mean of squares. Each stage mimics the
attention of the next, deeper one. The CE is the shared
:func:`~.functional.loss_ce`.
"""
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor

__all__ = ['sad_attention', 'loss_sad']


def sad_attention(feat: Tensor) -> Tensor:
    """SAD's spatial attention: ``softmax_hw(mean_c(feat ** 2))``.

    Computed in float32 (a softmax over H * W positions leaves little of a
    bf16 map's precision).

    Args:
        feat (Tensor): Shape (N, C, H, W).

    Returns:
        Tensor: Shape (N, H * W), each row summing to 1.
    """
    return F.softmax(feat.float().pow(2).mean(dim=1).flatten(1), dim=1)


def loss_sad(stages: Sequence[Tensor]) -> Tensor:
    """``sum_m mean((A(S_m) - A(up(sg S_{m+1}))) ** 2)`` over consecutive
    stages (before the weight 1000).

    Args:
        stages (Sequence[Tensor]): The backbone's stages in order, each
            (N, C_m, H_m, W_m); channels may differ, and each stage's size
            is the one its successor is upsampled to.

    Returns:
        Tensor: A scalar.
    """
    if len(stages) < 2:
        raise ValueError('self-attention distillation pairs consecutive '
                         f'stages: it needs at least two, got {len(stages)}')
    total = 0.
    for shallow, deep in zip(stages[:-1], stages[1:]):
        target = F.interpolate(
            deep.detach(), size=shallow.shape[-2:], mode='bilinear',
            align_corners=False)
        total = total + (sad_attention(shallow) -
                         sad_attention(target)).pow(2).mean()
    return total
