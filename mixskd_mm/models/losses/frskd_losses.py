"""The FRSKD term that only FRSKD has, named after its loss key.

FRSKD, "Refine Myself by Teaching Myself: Feature Refinement via
Self-Knowledge Distillation" (Ji et al., CVPR 2021,
https://arxiv.org/abs/2103.08273). reference-methods.md section 2.2 (the
released ``classification/utils.py::train``)::

    L = CE(z, y) + CE(t, y) + alpha * KD_T(z <- sg t)
        + beta * sum_i AT(S_i, sg R_i)

``z`` the classifier's logits, ``t`` the self-teacher's (BiFPN + own head),
``S_i`` the backbone's stage ``i``, ``R_i`` the refined map of level ``i``,
``sg`` stop-gradient. The two CEs (``loss_ce``, ``loss_teacher_ce``; with
the ``--aug mixup|cutmix`` option the mixed-label ``loss_mix_ce``,
``loss_teacher_mix_ce``) are the shared :func:`~.functional.loss_ce` /
:func:`~.functional.loss_mix_ce` of each head's loss module, and
``loss_kd`` is :func:`~.functional.loss_kd`.
"""
from typing import Sequence

from torch import Tensor

from .functional import attention_transfer

__all__ = ['loss_at']


def loss_at(stages: Sequence[Tensor], refined: Sequence[Tensor]) -> Tensor:
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
    return sum(attention_transfer(s, r) for s, r in zip(stages, refined))
