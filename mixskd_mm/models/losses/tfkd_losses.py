"""Tf-KD-reg: distillation from a hand-made teacher, named after its key.

Yuan et al., "Revisiting Knowledge Distillation via Label Smoothing
Regularization", CVPR 2020, https://arxiv.org/abs/1909.11723. As released in
Self-KD-Lib (``methods/tf_kd_reg.py``, ``main.py --method TF_KD_self_reg``)::

    L = CE(z, y) + loss_tfkd,
    loss_tfkd = -(1 / T) * mean_i sum_c q_ic log softmax(z_i / T)_c,

with the virtual teacher ``q_i = a`` on the correct class and ``(1 - a) /
(C - 1)`` on each other class (``a = 1 - epsilon = 0.9``, ``T = 20``).
"""
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['virtual_teacher', 'loss_tfkd']


def virtual_teacher(labels: Tensor, num_classes: int,
                    correct_prob: float) -> Tensor:
    """The hand-made teacher distribution ``q``.

    Args:
        labels (Tensor): Long tensor (N, ).
        num_classes (int): C.
        correct_prob (float): ``a``, the probability of the correct class;
            the rest is spread evenly over the other C - 1 classes.

    Returns:
        Tensor: Float32 (N, C), rows summing to 1.
    """
    q = torch.full((labels.numel(), num_classes),
                   (1.0 - correct_prob) / (num_classes - 1),
                   dtype=torch.float32, device=labels.device)
    return q.scatter_(1, labels.view(-1, 1), correct_prob)


def loss_tfkd(logits: Tensor, labels: Tensor, correct_prob: float = 0.9,
              temperature: float = 20.0) -> Tensor:
    """``-(1 / T) * mean_i sum_c q_ic log softmax(z_i / T)_c``.

    The cross-entropy from the virtual teacher at temperature T, divided by
    T as the released ``TF_KD_reg`` does (it differs from
    ``KL(q || softmax(z / T)) / T`` by the constant ``H(q) / T``: same
    gradient). Computed in float32.

    Args:
        logits (Tensor): Shape (N, C).
        labels (Tensor): Long tensor (N, ).
        correct_prob (float): ``a``. Defaults to 0.9.
        temperature (float): T. Defaults to 20.

    Returns:
        Tensor: A scalar.
    """
    q = virtual_teacher(labels, logits.size(1), correct_prob)
    log_p = F.log_softmax(logits.float() / temperature, dim=1)
    return -(q * log_p).sum(dim=1).mean() / temperature
