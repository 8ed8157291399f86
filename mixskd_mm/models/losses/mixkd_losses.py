"""The two terms of the MIX-KD objective, one function each.

MIX-KD, "Understanding the Role of Mixup in Knowledge Distillation: An
Empirical Study" (Choi et al., WACV 2023, https://arxiv.org/abs/2211.03946).
reference-methods.md section 4 (``distiller_zoo/MIXSTD.py``,
``helper/loops_mixstd.py``)::

    L = gamma * CE_soft(s~, y_mix) + alpha * KL(t~ || s~)

``s``, ``t`` student and teacher logits on the same partially mixed batch,
``y_mix = lam * onehot(y) + (1 - lam) * onehot(y[index])``, ``~`` softmax
of the logits divided by their own per-sample standard deviation. Both
terms read the std-normalised student logits, as the released
``MIXSTDLoss`` does (``-log_softmax(logit_s / stds) * target``).
"""
from torch import Tensor

from .functional import (mixed_cross_entropy, std_normalize_logits,
                         std_normalized_kd)

__all__ = ['mixkd_ce', 'mixkd_distill']


def mixkd_ce(logits: Tensor, labels: Tensor, lam: Tensor,
             index: Tensor) -> Tensor:
    """``CE_soft(s~, y_mix)``: section 4, the ``gamma`` term.

    ``-sum_i sum_c y_mix[i, c] * log_softmax(s_i / std(s_i))[c] / N``: the
    soft-target cross entropy of the *std-normalised* student logits (the
    released ``MIXSTDLoss``; the gradient also flows through ``std(s_i)``)
    against the mixed one-hot label, batch mean. Cross entropy is linear in
    its target, so this is :func:`mixed_cross_entropy` of the normalised
    logits (``lam * CE(y) + (1 - lam) * CE(y[index])``).

    Args:
        logits (Tensor): Raw student logits on the mixed batch,
            (N, num_classes).
        labels (Tensor): (N, ).
        lam (Tensor): (N, ); 1 for unmixed samples.
        index (Tensor): Partners, (N, ).
    """
    return mixed_cross_entropy(
        std_normalize_logits(logits), labels, lam, index)


def mixkd_distill(student: Tensor, teacher: Tensor) -> Tensor:
    """``mean_i KL(t~_i || s~_i)``: section 4, the ``alpha`` term.

    The logits are standardised per sample (divided by their standard
    deviation) instead of divided by a temperature; batch mean, no ``T^2``.
    The teacher's logits are detached.

    Args:
        student (Tensor): (N, num_classes).
        teacher (Tensor): (N, num_classes).
    """
    return std_normalized_kd(student, teacher, detach_teacher=True)
