"""Confidence penalty ("maximum entropy"), a head loss (``model.head.loss``).

"Regularizing Neural Networks by Penalizing Confident Output Distributions"
(Pereyra et al., ICLR 2017 workshop, https://arxiv.org/abs/1701.06548)::

    L = mean_n [ CE(z_n, y_n) - beta * H(p_n) ],   H(p) = -sum_c p_c log p_c

Self-KD-Lib's ``Maximum_entropy`` baseline (``main.py``) adds
``0.5 * mean_{n,c}(p log p)``: the mean over the batch *and the classes*, so
its ``beta`` is ``0.5 / C`` (0.005 for CIFAR-100). Here ``beta`` is the
weight of the per-sample entropy, as in the paper, and the recipes set the
released value. A soft target ``t`` (N, C) gives ``-sum_c t_c log p_c`` for
the CE part.
"""
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch import Tensor

from ...utils.validate import check_number
from .head_loss import PerSampleHeadLoss, targets_as_scores

__all__ = ['max_entropy_loss', 'MaxEntropyLoss']


def max_entropy_loss(logits: Tensor, target: Tensor,
                     entropy_weight: float) -> Tensor:
    """Per-sample ``CE(z, y) - beta * H(softmax(z))``.

    Args:
        logits (Tensor): (N, C).
        target (Tensor): Long labels (N, ) or scores (N, C).
        entropy_weight (float): ``beta``.

    Returns:
        Tensor: (N, ).
    """
    log_p = F.log_softmax(logits, dim=1)
    scores = targets_as_scores(target, logits.size(1))
    ce = -(scores * log_p).sum(dim=1)
    entropy = -(log_p.exp() * log_p).sum(dim=1)
    return ce - entropy_weight * entropy


@MODELS.register_module()
class MaxEntropyLoss(PerSampleHeadLoss):
    """:func:`max_entropy_loss` with mmpretrain's loss-module interface.

    Args:
        entropy_weight (float): ``beta``, the weight of the per-sample
            prediction entropy, >= 0 (0 gives the CE). Defaults to 0.005
            (the released ``0.5 / C`` for C = 100).
        reduction (str): 'none', 'mean' or 'sum'. Defaults to 'mean'.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self,
                 entropy_weight: float = 0.005,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0):
        super().__init__(reduction, loss_weight)
        self.entropy_weight = check_number(
            entropy_weight, 'model.head.loss.entropy_weight', 0,
            why='a negative weight would reward confident predictions')

    def per_sample(self, cls_score: Tensor, label: Tensor) -> Tensor:
        return max_entropy_loss(cls_score, label, self.entropy_weight)

    def extra_repr(self) -> str:
        return (f'entropy_weight={self.entropy_weight}, '
                f'reduction={self.reduction!r}')
