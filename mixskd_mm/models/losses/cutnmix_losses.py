"""The Cut^nMix online-distillation terms, each named after its loss key.

"Mixed Sample Augmentation for Online Distillation" (Shen et al., 2022,
https://arxiv.org/abs/2206.12370). Only the abstract is public
(reference-methods.md section 3): peers trained on the same CutMix-like
batch, feature-level mutual learning and a self-ensemble teacher. The
formulas below are this project's design, documented in
:class:`CutnMixOnlineDistiller`. Notation: ``P`` peers, ``z_p`` logits and
``F_p`` last feature map of peer ``p`` on the mixed batch, ``sg``
stop-gradient, ``KD_T`` as in section 1.2. ``loss_mix_ce``, the
mixed-label CE of every peer (each through its own head's loss module), is
the shared :func:`~.functional.loss_mix_ce`.
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .functional import attention_transfer, loss_kd

__all__ = ['loss_mutual_kd', 'loss_feat_mutual', 'loss_ensemble_kd']

FEATURE_MODES = ('attention', 'mse')


def _check_peers(values: Sequence[Tensor]) -> int:
    if len(values) < 2:
        raise ValueError(
            f'online distillation needs at least 2 peers, got {len(values)}')
    return len(values)


def loss_mutual_kd(peer_logits: Sequence[Tensor],
                   temperature: float) -> Tensor:
    """``sum_p 1/(P-1) sum_{q != p} KD_T(z_p <- sg z_q)``.

    Mutual logit learning (Deep Mutual Learning, Zhang et al. 2018, with a
    temperature): every peer learns from each other peer's detached output;
    the average over the others keeps the scale independent of ``P``.

    Args:
        peer_logits (Sequence[Tensor]): Each (N, num_classes).
        temperature (float): T.
    """
    num = _check_peers(peer_logits)
    return sum(
        loss_kd(peer_logits[p], peer_logits[q], temperature) / (num - 1)
        for p in range(num) for q in range(num) if q != p)


def loss_feat_mutual(peer_feats: Sequence[Tensor],
                     mode: str = 'attention') -> Tensor:
    """``sum_p 1/(P-1) sum_{q != p} D(F_p, sg F_q)``, feature mutual learning.

    ``D`` is, with ``mode='attention'``, the attention-transfer distance of
    section 2.2 (mean squared difference of the L2-normalised channel means
    of squares: it compares where the peers look and does not assume that
    independently initialised peers order their channels alike); with
    ``mode='mse'``, the mean squared difference of the raw maps.

    Args:
        peer_feats (Sequence[Tensor]): Last feature maps, each
            (N, C, H, W).
        mode (str): 'attention' or 'mse'. Defaults to 'attention'.
    """
    if mode not in FEATURE_MODES:
        raise ValueError(
            f'mode must be one of {FEATURE_MODES}, got {mode!r}')
    num = _check_peers(peer_feats)
    total = 0.
    for p in range(num):
        for q in range(num):
            if q == p:
                continue
            if mode == 'attention':
                d = attention_transfer(peer_feats[p], peer_feats[q])
            else:
                d = F.mse_loss(peer_feats[p], peer_feats[q].detach())
            total = total + d / (num - 1)
    return total


def loss_ensemble_kd(peer_logits: Sequence[Tensor],
                     temperature: float) -> Tensor:
    """``sum_p KD_T(z_p <- sg mean_q z_q)``: the self-ensemble teacher.

    The teacher is the average of all peers' logits (the peer itself
    included), detached, as in ONE / KDCL-style online distillation.

    Args:
        peer_logits (Sequence[Tensor]): Each (N, num_classes).
        temperature (float): T.
    """
    _check_peers(peer_logits)
    ensemble = torch.stack(list(peer_logits)).mean(dim=0).detach()
    return sum(loss_kd(z, ensemble, temperature) for z in peer_logits)
