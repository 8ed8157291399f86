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
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import Tensor

from ...utils.validate import check_number
from .head_loss import PerSampleHeadLoss, targets_as_scores

__all__ = ['softmax_focal_loss', 'SoftmaxFocalLoss']


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
class SoftmaxFocalLoss(PerSampleHeadLoss):
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
        super().__init__(reduction, loss_weight)
        self.gamma = check_number(
            gamma, 'model.head.loss.gamma', 0,
            why='(1 - p)^gamma down-weights easy samples; 0 is the CE')

    def per_sample(self, cls_score: Tensor, label: Tensor) -> Tensor:
        return softmax_focal_loss(cls_score, label, self.gamma)

    def extra_repr(self) -> str:
        return f'gamma={self.gamma}, reduction={self.reduction!r}'
