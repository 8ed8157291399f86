"""CS-KD: class-wise self-distillation, named after its key.

Yun et al., "Regularizing Class-wise Predictions via Self-knowledge
Distillation", CVPR 2020, https://arxiv.org/abs/2003.13964. As released in
Self-KD-Lib (``methods/cs_kd.py``, ``main.py --method CS-KD``; the same as
``alinlab/cs-kd``)::

    L = CE(z(x), y) + loss_pair_kd,
    loss_pair_kd = KD_T(z(x) <- sg z(x')),   T = 4,

``x'`` another image of the class of ``x`` and ``KD_T`` the ``DistillKL``
of :func:`~.functional.loss_kd` (``T^2`` times the batch-mean KL).
"""
from torch import Tensor

from .functional import loss_kd

__all__ = ['loss_pair_kd']


def loss_pair_kd(logits: Tensor, partner_logits: Tensor,
                 temperature: float = 4.0) -> Tensor:
    """``T^2 * mean_i KL(softmax(z'_i / T) || softmax(z_i / T))``.

    Args:
        logits (Tensor): The anchors' logits ``z``, shape (N, C).
        partner_logits (Tensor): Those of their same-class partners ``z'``,
            shape (N, C); detached (stop-gradient).
        temperature (float): T. Defaults to 4.

    Returns:
        Tensor: A scalar.
    """
    return loss_kd(logits, partner_logits.detach(), temperature)
