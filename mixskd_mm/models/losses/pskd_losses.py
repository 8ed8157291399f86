"""PS-KD terms (Kim et al., ICCV 2021, https://arxiv.org/abs/2006.12000).

"Self-Knowledge Distillation with Progressive Refinement of Targets": the
network's own prediction of the previous epoch, blended with the one-hot
label by a weight that grows linearly over training, is the target of a
soft-label cross-entropy.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ...utils.validate import check_number

__all__ = ['pskd_alpha', 'pskd_soft_targets', 'loss_soft_ce']


def pskd_alpha(alpha_T: float, epoch: int, max_epochs: int) -> float:
    """``alpha_t = alpha_T * (epoch + 1) / max_epochs``, at least 0.

    The released schedule (Self-KD-Lib ``methods/ps_kd.py``) with the
    0-indexed epoch of mmengine's ``MessageHub``: ``alpha_T / max_epochs``
    in the first epoch, ``alpha_T`` in the last.

    Args:
        alpha_T (float): The weight of the previous prediction at the end.
        epoch (int): The current epoch, 0-indexed.
        max_epochs (int): The number of training epochs.
    """
    check_number(max_epochs, 'max_epochs', 1, integer=True)
    return max(0.0, alpha_T * (epoch + 1) / max_epochs)


def pskd_soft_targets(labels: Tensor, previous: Tensor, filled: Tensor,
                      alpha: float, num_classes: int) -> Tensor:
    """``(1 - alpha) * onehot(y) + alpha * p_prev``, the PS-KD target.

    A sample without a stored prediction (its first epoch) gets its one-hot
    label, as the released code does by writing the one-hot labels into
    the store in epoch 0.

    Args:
        labels (Tensor): Hard labels, long (N, ).
        previous (Tensor): Stored softmax of the previous epoch, (N, C);
            any dtype.
        filled (Tensor): Whether ``previous`` holds a prediction, bool
            (N, ).
        alpha (float): ``alpha_t`` of :func:`pskd_alpha`.
        num_classes (int): C.

    Returns:
        Tensor: Float32 soft targets (N, C), rows summing to 1; no gradient.
    """
    one_hot = F.one_hot(labels, num_classes).float()
    prev = torch.where(filled[:, None], previous.float(), one_hot)
    return ((1 - alpha) * one_hot + alpha * prev).detach()


def loss_soft_ce(loss_module: nn.Module, logits: Tensor,
                 soft_targets: Tensor) -> Tensor:
    """``mean_i -sum_c q_ic log softmax(z_i)_c`` through the head's loss.

    The released ``Custom_CrossEntropy_PSKD`` (``(-q * log_softmax(z))
    .mean(0).sum()``). It goes through the head's ``loss_module``: a
    ``CrossEntropyLoss`` given (N, C) probabilities computes exactly this
    (``F.cross_entropy`` with probability targets); a ``LabelSmoothLoss``
    smooths the soft target further.

    Args:
        loss_module (nn.Module): ``head.loss_module``.
        logits (Tensor): (N, C).
        soft_targets (Tensor): (N, C), rows summing to 1.

    Returns:
        Tensor: A scalar.
    """
    return loss_module(logits, soft_targets.to(logits.dtype),
                       avg_factor=logits.size(0))
