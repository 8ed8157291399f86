"""What the per-sample head losses (focal, maximum entropy) share.

mmpretrain's heads call ``loss_module(cls_score, label, avg_factor=...,
weight=...)``. A head loss here is a pure per-sample function (N, C) logits x
(N, ) labels or (N, C) scores -> (N, ); :class:`PerSampleHeadLoss` gives it
that interface once: ``reduction``, ``loss_weight``, per-sample ``weight``
and ``avg_factor`` through mmpretrain's ``weight_reduce_loss``.
"""
from typing import Optional

import torch.nn as nn
from mmpretrain.models.losses.utils import (convert_to_one_hot,
                                            weight_reduce_loss)
from torch import Tensor

from ...utils.validate import check_number

__all__ = ['targets_as_scores', 'PerSampleHeadLoss']

_REDUCTIONS = ('none', 'mean', 'sum')


def targets_as_scores(target: Tensor, num_classes: int) -> Tensor:
    """Hard labels (N, ) as one-hot float scores (N, C); soft (N, C) kept."""
    if target.dim() == 1:
        return convert_to_one_hot(target.view(-1, 1), num_classes).float()
    if target.shape[1] != num_classes:
        raise ValueError(f'soft targets have {target.shape[1]} classes, the '
                         f'logits {num_classes}')
    return target.float()


class PerSampleHeadLoss(nn.Module):
    """A per-sample loss with mmpretrain's loss-module interface.

    Subclasses implement :meth:`per_sample` (logits (N, C), labels (N, ) or
    scores (N, C) -> (N, )).

    Args:
        reduction (str): 'none', 'mean' or 'sum'. Defaults to 'mean'.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f'model.head.loss.reduction must be one of '
                             f'{_REDUCTIONS}, got {reduction!r}')
        self.reduction = reduction
        self.loss_weight = check_number(loss_weight,
                                        'model.head.loss.loss_weight')

    def per_sample(self, cls_score: Tensor, label: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[int] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """The weighted, reduced loss of logits (N, C) and labels (N, ) or
        scores (N, C); ``weight`` is per sample (N, )."""
        reduction = reduction_override or self.reduction
        if weight is not None:
            weight = weight.float()
        return self.loss_weight * weight_reduce_loss(
            self.per_sample(cls_score, label), weight=weight,
            reduction=reduction, avg_factor=avg_factor)
