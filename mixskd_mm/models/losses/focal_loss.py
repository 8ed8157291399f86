"""Softmax focal loss, a head loss (``model.head.loss``).

"Focal Loss for Dense Object Detection" (Lin et al., ICCV 2017,
https://arxiv.org/abs/1708.02002), in the multi-class softmax form that
Self-KD-Lib (``methods/focal_loss.py``) uses as its focal-loss baseline::

    L = mean_n  -(1 - p_{n,y_n})^gamma * log p_{n,y_n},   p = softmax(z)

with ``gamma = 2`` and no class weight ``alpha``. mmpretrain's ``FocalLoss``
is the sigmoid (one-vs-all) form with ``alpha = 0.25``, a different loss,
hence this one. A soft target ``t`` (N, C) (mixup-style batch augments) gives
``-sum_c t_c (1 - p_c)^gamma log p_c``, which is the above for a one-hot
``t``.
"""
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.losses.utils import convert_to_one_hot
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS
from torch import Tensor

from ...utils.validate import check_number

__all__ = ['softmax_focal_loss', 'SoftmaxFocalLoss']

_REDUCTIONS = ('none', 'mean', 'sum')


def targets_as_scores(target: Tensor, num_classes: int) -> Tensor:
    """Hard labels (N, ) as one-hot float scores (N, C); soft (N, C) kept."""
    if target.dim() == 1:
        return convert_to_one_hot(target.view(-1, 1), num_classes).float()
    if target.shape[1] != num_classes:
        raise ValueError(f'soft targets have {target.shape[1]} classes, the '
                         f'logits {num_classes}')
    return target.float()


def softmax_focal_loss(logits: Tensor, target: Tensor,
                       gamma: float = 2.0) -> Tensor:
    """Per-sample softmax focal loss.

    Args:
        logits (Tensor): (N, C).
        target (Tensor): Long labels (N, ) or scores (N, C).
        gamma (float): The focusing exponent; 0 gives the CE.

    Returns:
        Tensor: (N, ).
    """
    log_p = F.log_softmax(logits, dim=1)
    focus = (1 - log_p.exp()).pow(gamma)
    scores = targets_as_scores(target, logits.size(1))
    return -(scores * focus * log_p).sum(dim=1)


@MODELS.register_module()
class SoftmaxFocalLoss(nn.Module):
    """:func:`softmax_focal_loss` with mmpretrain's loss-module interface.

    Args:
        gamma (float): Focusing exponent, >= 0. Defaults to 2.0 (the
            released value and the paper's best).
        reduction (str): 'none', 'mean' or 'sum'. Defaults to 'mean'.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self,
                 gamma: float = 2.0,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0):
        super().__init__()
        self.gamma = check_number(
            gamma, 'model.head.loss.gamma', 0,
            why='(1 - p)^gamma down-weights easy samples; 0 is the CE')
        if reduction not in _REDUCTIONS:
            raise ValueError(f'model.head.loss.reduction must be one of '
                             f'{_REDUCTIONS}, got {reduction!r}')
        self.reduction = reduction
        self.loss_weight = check_number(loss_weight,
                                        'model.head.loss.loss_weight')

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
        loss = softmax_focal_loss(cls_score, label, self.gamma)
        if weight is not None:
            weight = weight.float()
        return self.loss_weight * weight_reduce_loss(
            loss, weight=weight, reduction=reduction, avg_factor=avg_factor)

    def extra_repr(self) -> str:
        return f'gamma={self.gamma}, reduction={self.reduction!r}'
