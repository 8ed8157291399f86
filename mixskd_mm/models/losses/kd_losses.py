"""The two terms of classic teacher-student KD, one function each.

"Distilling the Knowledge in a Neural Network" (Hinton et al., 2015,
https://arxiv.org/abs/1503.02531), in the form of the RepDistiller code base
that MIX-KD builds on (reference-methods.md section 4)::

    L = gamma * CE(s(x), y) + alpha * KD_T(s <- sg t)

with ``KD_T`` of section 1.2 (batch mean, times ``T^2``).
"""
import torch.nn.functional as F
from torch import Tensor

from .functional import kd_kl_div

__all__ = ['kd_hard_ce', 'kd_soft_kl']


def kd_hard_ce(logits: Tensor, labels: Tensor) -> Tensor:
    """``CE(s(x), y)``: the hard-label term (before ``gamma``).

    Args:
        logits (Tensor): Student logits, (N, num_classes).
        labels (Tensor): (N, ).
    """
    return F.cross_entropy(logits, labels)


def kd_soft_kl(student: Tensor, teacher: Tensor,
               temperature: float) -> Tensor:
    """``KD_T(s <- sg t)``: the soft-target term (before ``alpha``).

    Args:
        student (Tensor): (N, num_classes).
        teacher (Tensor): (N, num_classes); detached.
        temperature (float): T.
    """
    return kd_kl_div(student, teacher, temperature, detach_teacher=True)
