"""The BYOT terms, each named after its loss key.

BYOT, "Be Your Own Teacher: Improve the Performance of Convolutional Neural
Networks via Self Distillation" (Zhang et al., ICCV 2019,
https://arxiv.org/abs/1905.08094), as released in Self-KD-Lib
(``methods/byot.py``; ``main.py``: ``DistillKL(T=4)``)::

    L = sum_k CE(z_k, y) + sum_{i>0} KD_T(z_i <- sg z_0)
        + 0.05 * sum_{i>0} mean((F_i - sg F_0) ** 2)

``z_0`` / ``F_0``: the deepest classifier (the backbone's head) and its
final-stage map; ``z_i`` / ``F_i``: the auxiliary branches' logits and
output maps (same shape as ``F_0``). The CE sum is the shared
:func:`~.functional.loss_ce` over every head.
"""
from typing import Sequence

from torch import Tensor

from . import functional

__all__ = ['loss_kd', 'loss_hint']


def loss_kd(branch_logits: Sequence[Tensor], deepest: Tensor,
            temperature: float) -> Tensor:
    """``sum_i KD_T(z_i <- sg z_0)``: every shallow classifier learns the
    deepest one's soft targets (:func:`~.functional.loss_kd`, T^2 times the
    batch-mean KL; ``z_0`` detached).

    Args:
        branch_logits (Sequence[Tensor]): The auxiliary heads' logits, each
            (N, num_classes).
        deepest (Tensor): The backbone head's logits, (N, num_classes).
        temperature (float): T.

    Returns:
        Tensor: A scalar.
    """
    return sum(
        functional.loss_kd(z, deepest, temperature) for z in branch_logits)


def loss_hint(branch_maps: Sequence[Tensor], deepest: Tensor) -> Tensor:
    """``sum_i mean((F_i - sg F_0) ** 2)``: the feature hints.

    The element-wise mean of the squared difference between each branch's
    output map and the detached final-stage map (before pooling).

    Args:
        branch_maps (Sequence[Tensor]): Each (N, C, H, W).
        deepest (Tensor): The backbone's last stage, (N, C, H, W).

    Returns:
        Tensor: A scalar.
    """
    target = deepest.detach()
    for f in branch_maps:
        if f.shape != target.shape:
            raise ValueError(
                f'BYOT hints compare maps of one shape: branch map '
                f'{tuple(f.shape)} vs final stage {tuple(target.shape)}')
    return sum((f - target).pow(2).mean() for f in branch_maps)
