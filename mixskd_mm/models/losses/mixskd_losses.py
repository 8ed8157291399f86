"""The MixSKD terms that only MixSKD has, each named after its loss key.

Rows 1 and 2 (``loss_ce``, ``loss_mix_ce``) are the shared
:func:`~.functional.loss_ce` and :func:`~.functional.loss_mix_ce` over the
four heads. Rows refer to the table of reference-methods.md section 1.5
(the released ImageNet script). Notation: ``z_k`` logits of head ``k``
(heads 1-3 are the auxiliary branches, 4 the backbone's), ``F_k`` the map
head ``k`` pools,
``bar`` the interpolation of the two originals' values
(``lam * v(x) + (1 - lam) * v(x)[index]``), ``mix`` the value on the mixup
image, ``t(.)`` the self-teacher's logits, ``sg`` stop-gradient.

Under mixed precision the distillation terms (rows 4, 5) are computed in
float32 from the low-precision logits: CPU autocast keeps ``log_softmax`` in
bfloat16, and a KL divergence of bfloat16 log-probabilities is mostly
rounding (a MixSKD step gave -0.028 for row 5 instead of +0.0005). In float32
the cast is a no-op, so full-precision values are unchanged to the bit.
"""
from typing import Sequence

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..utils.discriminator import grad_reverse
from .functional import loss_kd, loss_mix_ce

__all__ = [
    'loss_teacher_mix_ce', 'loss_mutual_kd', 'loss_teacher_kd', 'loss_feat',
    'loss_adv'
]


def loss_teacher_mix_ce(teacher_loss: nn.Module, teacher_bar: Tensor,
                        teacher_mix: Tensor, labels: Tensor, lam: Tensor,
                        index: Tensor) -> Tensor:
    """Row 3: ``MixCE(t(F_bar)) + MixCE(t(F(x_mix)))``.

    Mixed-label CE (the teacher head's ``loss_module``, see
    :func:`~.functional.loss_mix_ce`) of the self-teacher on the
    interpolated and on the mixup-image maps. Trains the self-teacher; its
    gradient also reaches the network through both inputs.
    """
    return loss_mix_ce([teacher_loss] * 2, [teacher_bar, teacher_mix],
                       labels, lam, index)


def loss_mutual_kd(logits_bar: Sequence[Tensor],
                   logits_mix: Sequence[Tensor],
                   temperature: float) -> Tensor:
    """Row 4: ``sum_k KD_T(z_bar_k <- sg z_k(x_mix))
    + KD_T(z_k(x_mix) <- sg z_bar_k)``, for the auxiliary heads.

    Each direction detaches its target.
    """
    return sum(
        loss_kd(bar, mix, temperature) + loss_kd(mix, bar, temperature)
        for bar, mix in zip(logits_bar, logits_mix))


def loss_teacher_kd(backbone_bar: Tensor, backbone_mix: Tensor,
                    teacher_bar: Tensor, teacher_mix: Tensor,
                    temperature: float) -> Tensor:
    """Row 5: ``KD_T(z_bar_4 <- sg t(F(x_mix)))
    + KD_T(z_4(x_mix) <- sg t(F_bar))``.

    The self-teacher's soft labels for the backbone's own classifier, with the
    crossed pairing of the authors' code: the backbone's interpolated logits
    learn from the teacher's view of the mixup image and vice versa.
    """
    return (loss_kd(backbone_bar, teacher_mix, temperature) +
            loss_kd(backbone_mix, teacher_bar, temperature))


def loss_feat(maps_bar: Sequence[Tensor],
              maps_mix: Sequence[Tensor]) -> Tensor:
    """Row 6: ``sum_k MSE(F_bar_k, F_k(x_mix))``, no detach on either side.

    Each MSE is the mean over all elements; both sides get the gradient:
    the interpolated and the mixup-image maps are pulled towards each
    other.
    """
    return sum(F.mse_loss(bar, mix) for bar, mix in zip(maps_bar, maps_mix))


def loss_adv(discriminators: Sequence,
             maps_bar: Sequence[Tensor],
             maps_mix: Sequence[Tensor],
             grl_coeff: float = 1.0) -> Tensor:
    """Row 7, as a real min-max game (not the released code's).

    ``sum_k BCE(D_k(F_bar_k), 1) + BCE(D_k(F_k(x_mix)), 0)``. The
    discriminators minimise it; a gradient-reversal layer in front of them
    sends ``-grl_coeff`` times its gradient into the network, which therefore
    maximises it: the interpolated and mixup-image features are pushed to be
    indistinguishable. One optimiser step updates both sides.

    The released code keeps its discriminators in a plain list (never
    registered, trained or saved) and lets the network *minimise* the BCE of
    the frozen random MLPs; reference-methods.md section 1.5 explains why
    that is not adversarial. It is not reproduced here.
    """
    total = 0.
    for disc, bar, mix in zip(discriminators, maps_bar, maps_mix):
        real = disc(grad_reverse(bar, grl_coeff))
        fake = disc(grad_reverse(mix, grl_coeff))
        total = total + (
            F.binary_cross_entropy_with_logits(real, real.new_ones(
                real.shape)) + F.binary_cross_entropy_with_logits(
                    fake, fake.new_zeros(fake.shape)))
    return total
