"""The terms of the FRSKD objective, one function each.

FRSKD, "Refine Myself by Teaching Myself: Feature Refinement via
Self-Knowledge Distillation" (Ji et al., CVPR 2021,
https://arxiv.org/abs/2103.08273). reference-methods.md section 2.2 (the
released ``classification/utils.py::train``)::

    L = CE(z, y) + CE(t, y) + alpha * KD_T(z <- sg t)
        + beta * sum_i AT(S_i, sg R_i)

``z`` the classifier's logits, ``t`` the self-teacher's (BiFPN + own head),
``S_i`` the backbone's stage ``i``, ``R_i`` the refined map of level ``i``,
``sg`` stop-gradient. With the ``--aug mixup|cutmix`` option both CEs become
mixed-label CEs on the mixed batch; the distillation terms are unchanged.
"""
from typing import Optional, Sequence

import torch.nn.functional as F
from torch import Tensor

from .functional import attention_transfer, kd_kl_div, mixed_cross_entropy

__all__ = ['frskd_ce', 'frskd_kd', 'frskd_attention']


def frskd_ce(logits: Tensor,
             labels: Tensor,
             lam: Optional[Tensor] = None,
             index: Optional[Tensor] = None) -> Tensor:
    """``CE(z, y)``, or ``MixCE(z; y, y[index], lam)`` on a mixed batch.

    Section 2.2, first and second term (the classifier's and the
    self-teacher's CE; the gradient of the latter also reaches the backbone
    through the BiFPN's inputs) and the ``--aug`` option.

    Args:
        logits (Tensor): Shape (N, num_classes).
        labels (Tensor): Long tensor of shape (N, ).
        lam (Tensor, optional): Shape (N, ); with ``index``, the mixing of
            the batch the logits were computed on. Defaults to None (plain
            CE).
        index (Tensor, optional): Partners, shape (N, ). Defaults to None.
    """
    if lam is None:
        return F.cross_entropy(logits, labels)
    return mixed_cross_entropy(logits, labels, lam, index)


def frskd_kd(student: Tensor, teacher: Tensor, temperature: float) -> Tensor:
    """``KD_T(z <- sg t)``: section 2.2, third term (before ``alpha``).

    ``T^2 * mean_i KL(softmax(t_i / T) || softmax(z_i / T))``; the
    self-teacher's logits are detached.

    Args:
        student (Tensor): Classifier logits, shape (N, num_classes).
        teacher (Tensor): Self-teacher logits, shape (N, num_classes).
        temperature (float): T (4 in the released code).
    """
    return kd_kl_div(student, teacher, temperature, detach_teacher=True)


def frskd_attention(stages: Sequence[Tensor],
                    refined: Sequence[Tensor]) -> Tensor:
    """``sum_i AT(S_i, sg R_i)``: section 2.2, fourth term (before ``beta``).

    Per level, the mean squared difference of the L2-normalised spatial
    attention maps (channel mean of squares) of the backbone's stage and the
    detached refined map of the same level; summed over the levels.

    Args:
        stages (Sequence[Tensor]): Backbone stages, each (N, C_i, H_i, W_i).
        refined (Sequence[Tensor]): Refined maps, each
            (N, width * C_i, H_i, W_i).
    """
    if len(stages) != len(refined):
        raise ValueError(f'{len(stages)} stages but {len(refined)} refined '
                         'maps: FRSKD pairs them level by level')
    return sum(
        attention_transfer(s, r, detach_teacher=True)
        for s, r in zip(stages, refined))
