"""Loss primitives shared by every method, as small pure functions.

Formulas follow ``docs/reference-methods.md`` (a copy of the project's
method notes); section numbers below refer to it.
"""
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'kd_kl_div', 'mixed_cross_entropy', 'soft_cross_entropy',
    'feature_mse', 'attention_map', 'attention_transfer',
    'std_normalize_logits', 'std_normalized_kd'
]


def kd_kl_div(student: Tensor,
              teacher: Tensor,
              temperature: float = 1.0,
              detach_teacher: bool = True) -> Tensor:
    """Soft-target distillation KD_T(s <- t) (section 1.2).

    ``T^2 * mean_i KL(softmax(t_i / T) || softmax(s_i / T))``, the
    ``DistillKL`` of the authors' code (batch-mean reduction, times T^2,
    Hinton et al. 2015).

    Args:
        student (Tensor): Student logits, shape (N, num_classes).
        teacher (Tensor): Target logits, shape (N, num_classes).
        temperature (float): T. Defaults to 1.0.
        detach_teacher (bool): Stop the gradient into the target (the
            ``sg`` of the notes). Defaults to True.

    Returns:
        Tensor: A scalar.
    """
    if detach_teacher:
        teacher = teacher.detach()
    t = temperature
    log_p_s = F.log_softmax(student / t, dim=1)
    log_p_t = F.log_softmax(teacher / t, dim=1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)
    return kl.mean() * t * t


def mixed_cross_entropy(logits: Tensor, labels: Tensor, lam: Tensor,
                        index: Tensor) -> Tensor:
    """MixCE(z; y, y[pi], lambda) (section 1.2).

    ``mean_i [lam_i * CE(z_i, y_i) + (1 - lam_i) * CE(z_i, y_index_i)]``.
    With one lambda for the batch this is the authors'
    ``lam * CE(z, y) + (1 - lam) * CE(z, y[pi])``.

    Args:
        logits (Tensor): Shape (N, num_classes).
        labels (Tensor): Long tensor of shape (N, ).
        lam (Tensor): Shape (N, ).
        index (Tensor): Partner indices, shape (N, ).

    Returns:
        Tensor: A scalar.
    """
    ce_own = F.cross_entropy(logits, labels, reduction='none')
    ce_partner = F.cross_entropy(logits, labels[index], reduction='none')
    lam = lam.to(logits.dtype)
    return (lam * ce_own + (1 - lam) * ce_partner).mean()


def soft_cross_entropy(logits: Tensor, target_probs: Tensor) -> Tensor:
    """Cross-entropy against a probability target, batch mean.

    Args:
        logits (Tensor): Shape (N, num_classes).
        target_probs (Tensor): Shape (N, num_classes); rows sum to 1.
    """
    return -(target_probs * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def feature_mse(a: Tensor, b: Tensor) -> Tensor:
    """Mean squared difference over all elements; gradient to both sides.

    MixSKD's feature-map term (section 1.5, row 6) pulls the interpolated
    and the mixup-image maps towards each other: neither side is detached.
    """
    return F.mse_loss(a, b)


def attention_map(feat: Tensor) -> Tensor:
    """Spatial attention of a feature map (Zagoruyko & Komodakis, 2017).

    Channel mean of ``feat ** 2``, flattened and L2-normalised per sample.

    Args:
        feat (Tensor): Shape (N, C, H, W).

    Returns:
        Tensor: Shape (N, H * W).
    """
    return F.normalize(feat.pow(2).mean(dim=1).flatten(1), dim=1)


def attention_transfer(student: Tensor,
                       teacher: Tensor,
                       detach_teacher: bool = True) -> Tensor:
    """AT loss between two maps of the same spatial size (section 2.2).

    ``mean((attention_map(s) - attention_map(t)) ** 2)``.

    Args:
        student (Tensor): Shape (N, C_s, H, W).
        teacher (Tensor): Shape (N, C_t, H, W); channels may differ.
        detach_teacher (bool): Defaults to True.
    """
    if detach_teacher:
        teacher = teacher.detach()
    return (attention_map(student) - attention_map(teacher)).pow(2).mean()


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


def std_normalized_kd(student: Tensor,
                      teacher: Tensor,
                      detach_teacher: bool = True) -> Tensor:
    """MIX-KD's distillation term (section 4).

    ``mean_i KL(softmax(t_i / std(t_i)) || softmax(s_i / std(s_i)))``:
    batch mean, no T^2 factor.
    """
    if detach_teacher:
        teacher = teacher.detach()
    return kd_kl_div(
        std_normalize_logits(student),
        std_normalize_logits(teacher),
        temperature=1.0,
        detach_teacher=False)
