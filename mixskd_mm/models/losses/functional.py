"""Loss primitives and the terms every method shares, as pure functions.

Formulas follow ``docs/reference-methods.md`` (a copy of the project's
method notes); section numbers below refer to it. The supervised terms go
through the heads' own loss modules (``head.loss_module``, built from the
head config's ``loss``): a ``LabelSmoothLoss`` or a ``loss_weight`` in the
config changes them. :func:`check_head_loss` refuses at build a loss these
terms cannot honour.
"""
from typing import Sequence

import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.losses import CrossEntropyLoss, LabelSmoothLoss
from torch import Tensor

__all__ = [
    'check_head_loss', 'loss_ce', 'loss_mix_ce', 'loss_kd', 'attention_map',
    'attention_transfer', 'std_normalize_logits'
]

SUPPORTED_HEAD_LOSSES = (
    "CrossEntropyLoss (use_sigmoid=False, use_soft=False) or "
    "LabelSmoothLoss (mode='original' or 'classy_vision'), with "
    "reduction='mean'")


def check_head_loss(loss_module: nn.Module, method: str) -> None:
    """Refuse a head loss that the supervised terms cannot honour.

    Those terms call the loss module on hard labels (N, ) and, for a mixed
    batch, with per-sample weights ``lam`` and ``1 - lam`` (the loss is
    linear in its target, so this is the loss of the mixed target); they
    are averaged over the batch as ``ClsHead`` does (``avg_factor=N``).
    mmpretrain's softmax losses on hard labels do all of it.

    Args:
        loss_module (nn.Module): ``head.loss_module``.
        method (str): The classifier's name, for the message.

    Raises:
        ValueError: Naming ``model.head.loss`` and the supported losses.
    """
    name = type(loss_module).__name__
    problem = None
    if isinstance(loss_module, LabelSmoothLoss):
        if loss_module.mode == 'multi_label':
            problem = "mode='multi_label' is a sigmoid loss"
    elif isinstance(loss_module, CrossEntropyLoss):
        if loss_module.use_sigmoid:
            problem = 'use_sigmoid=True is a multi-label (sigmoid) loss'
        elif loss_module.use_soft:
            problem = ('use_soft=True reads soft-label targets (N, C); the '
                       'mixed-label terms give hard labels with per-sample '
                       'weights, which is the same loss: drop use_soft')
    else:
        problem = 'it is not a softmax loss on hard labels known to accept '\
                  'per-sample weights'
    if problem is None and getattr(loss_module, 'reduction', None) != 'mean':
        problem = (f'reduction={loss_module.reduction!r}: the terms are '
                   'batch means (avg_factor=N, as ClsHead computes them)')
    if problem is not None:
        raise ValueError(
            f'{method} cannot honour model.head.loss={name}: {problem}. '
            f'Its supervised terms support {SUPPORTED_HEAD_LOSSES}.')


def loss_ce(loss_modules: Sequence[nn.Module], logits: Sequence[Tensor],
            labels: Tensor) -> Tensor:
    """``sum_k L_k(z_k, y)``: each head's loss on the originals' labels.

    ``L_k`` is head ``k``'s ``loss_module`` (CE by default, so
    ``sum_k CE(z_k, y)``), averaged over the batch as ``ClsHead.loss``
    does. The ``loss_ce`` of every method (reference-methods.md 1.5 row 1,
    2.2, 4) and FRSKD's ``loss_teacher_ce``.

    Args:
        loss_modules (Sequence[nn.Module]): One per logits tensor.
        logits (Sequence[Tensor]): Each (N, num_classes).
        labels (Tensor): Long tensor (N, ).

    Returns:
        Tensor: A scalar.
    """
    return sum(
        loss(z, labels, avg_factor=z.size(0))
        for loss, z in zip(loss_modules, logits, strict=True))


def loss_mix_ce(loss_modules: Sequence[nn.Module], logits: Sequence[Tensor],
                labels: Tensor, lam: Tensor, index: Tensor) -> Tensor:
    """``sum_k MixCE_k(z_k; y, y[index], lam)`` (section 1.2's MixCE).

    ``MixCE_k = L_k(z, y; weight=lam) + L_k(z, y[index]; weight=1 - lam)``
    with head ``k``'s loss module ``L_k``, each a batch mean
    (``avg_factor=N``): ``mean_i lam_i CE(z_i, y_i) + (1 - lam_i)
    CE(z_i, y_index_i)`` for CE, the authors' ``lam * CE(z, y) +
    (1 - lam) * CE(z, y[pi])`` with one lambda per batch. CE and label
    smoothing are linear in the target, so this is the loss of the mixed
    (then smoothed) target ``lam * y + (1 - lam) * y[index]``.

    Args:
        loss_modules (Sequence[nn.Module]): One per logits tensor.
        logits (Sequence[Tensor]): Each (N, num_classes).
        labels (Tensor): Long tensor (N, ).
        lam (Tensor): Weight of each sample's own label, (N, ).
        index (Tensor): Partner indices, (N, ).

    Returns:
        Tensor: A scalar.
    """
    lam = lam.to(logits[0].dtype)
    partner = labels[index]
    return sum(
        loss(z, labels, weight=lam, avg_factor=z.size(0)) +
        loss(z, partner, weight=1 - lam, avg_factor=z.size(0))
        for loss, z in zip(loss_modules, logits, strict=True))


def loss_kd(student: Tensor, teacher: Tensor,
            temperature: float = 1.0) -> Tensor:
    """Soft-target distillation KD_T(s <- sg t) (section 1.2).

    ``T^2 * mean_i KL(softmax(t_i / T) || softmax(s_i / T))``, the
    ``DistillKL`` of the authors' code (batch-mean reduction, times T^2,
    Hinton et al. 2015); the target is detached. The ``loss_kd`` of KD and
    FRSKD (section 2.2, third term), of MIX-KD on std-normalised logits
    with T = 1 (section 4), and the primitive of the other KD terms.
    Computed in float32 whatever the logits' dtype: under bf16 autocast a
    bf16 ``log_softmax`` leaves mostly rounding error in a KL this small
    (a no-op cast in fp32).

    Args:
        student (Tensor): Student logits, shape (N, num_classes).
        teacher (Tensor): Target logits, shape (N, num_classes).
        temperature (float): T. Defaults to 1.0.

    Returns:
        Tensor: A scalar.
    """
    t = temperature
    log_p_s = F.log_softmax(student.float() / t, dim=1)
    log_p_t = F.log_softmax(teacher.detach().float() / t, dim=1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)
    return kl.mean() * t * t


def attention_map(feat: Tensor) -> Tensor:
    """Spatial attention of a feature map (Zagoruyko & Komodakis, 2017).

    Channel mean of ``feat ** 2``, flattened and L2-normalised per sample.

    Args:
        feat (Tensor): Shape (N, C, H, W).

    Returns:
        Tensor: Shape (N, H * W).
    """
    return F.normalize(feat.pow(2).mean(dim=1).flatten(1), dim=1)


def attention_transfer(student: Tensor, teacher: Tensor) -> Tensor:
    """AT(s, sg t) between two maps of the same spatial size (section 2.2).

    ``mean((attention_map(s) - attention_map(sg t)) ** 2)``.

    Args:
        student (Tensor): Shape (N, C_s, H, W).
        teacher (Tensor): Shape (N, C_t, H, W); channels may differ;
            detached.
    """
    return (attention_map(student) -
            attention_map(teacher.detach())).pow(2).mean()


def std_normalize_logits(logits: Tensor, eps: float = 1e-7) -> Tensor:
    """Divide each sample's logits by their standard deviation (MIX-KD).

    Used in place of a fixed temperature (section 4), by both MIX-KD terms.
    The unbiased standard deviation (``torch.std``'s default, as in the
    released ``MIXSTDLoss``); the gradient flows through it. ``eps`` keeps
    constant logits finite, where the released code divides by zero.

    Args:
        logits (Tensor): Shape (N, num_classes).
    """
    return logits / (logits.std(dim=1, keepdim=True) + eps)
