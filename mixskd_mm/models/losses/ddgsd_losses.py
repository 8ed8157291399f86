"""DDGSD terms (Xu & Liu, AAAI 2019,
https://doi.org/10.1609/aaai.v33i01.33015565).

"Data-Distortion Guided Self-Distillation for Deep Neural Networks": two
random distortions of each image pass through the one network; each view's
prediction learns from the other's and their features are pulled together
by a maximum mean discrepancy.
"""
from torch import Tensor

from .functional import loss_kd

__all__ = ['loss_mutual_kd', 'loss_mmd']


def loss_mutual_kd(logits_a: Tensor, logits_b: Tensor,
                   temperature: float) -> Tensor:
    """``KD_T(z_a <- sg z_b) + KD_T(z_b <- sg z_a)`` between the two views.

    The released ``criterion_div`` in both directions (``DistillKL``:
    ``T^2`` times the batch-mean KL), each direction detaching its target.

    Args:
        logits_a (Tensor): View 1, (N, num_classes).
        logits_b (Tensor): View 2, (N, num_classes).
        temperature (float): T.
    """
    return (loss_kd(logits_a, logits_b, temperature) +
            loss_kd(logits_b, logits_a, temperature))


def loss_mmd(feat_a: Tensor, feat_b: Tensor,
             per_channel: bool = False) -> Tensor:
    """A linear-kernel MMD between the views' pooled features.

    Released (``per_channel=False``): ``(mean(f_a) - mean(f_b)) ** 2``, the
    means taken over the batch *and* the channels, so one scalar per view.
    With ``per_channel=True`` the textbook linear-kernel MMD ``mean_c
    (mean_i f_a[i, c] - mean_i f_b[i, c]) ** 2`` (batch means per channel;
    averaged, not summed, over channels so the released weight keeps its
    scale). Neither side is detached.

    Args:
        feat_a (Tensor): View 1 features, (N, D).
        feat_b (Tensor): View 2 features, (N, D).
        per_channel (bool): Defaults to False (released).
    """
    if per_channel:
        return (feat_a.float().mean(0) - feat_b.float().mean(0)).pow(2).mean()
    return (feat_a.float().mean() - feat_b.float().mean()).pow(2)
