"""BAKE: batch knowledge ensembling, named after its key.

Ge et al., "Self-distillation with Batch Knowledge Ensembling Improves
ImageNet Classification", https://arxiv.org/abs/2104.13298 (code
``yxgeee/BAKE``; Self-KD-Lib ``methods/bake.py``, ``main.py --method
BAKE``). Over a batch of N images with L2-normalised features ``f`` and
logits ``z``::

    A = softmax_rows(f f^T - 1e9 I)          (affinities, no self-loop)
    p = softmax(z / T)
    p_hat = (1 - omega) (I - omega A)^-1 p   (propagation to convergence)
    L = CE(z, y) + loss_ensemble_kd,
    loss_ensemble_kd = T^2 * mean_i KL(sg p_hat_i || softmax(z_i / T)),

``omega = 0.5``, ``T = 4``. ``p_hat`` is a distribution (``A`` is
row-stochastic), which BAKE's ``KDLoss`` uses as the target. Self-KD-Lib
passes it to ``DistillKL``, which applies ``softmax(. / T)`` once more: a
nearly uniform target; ``resoftmax_targets=True`` reproduces that.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['knowledge_ensemble', 'loss_ensemble_kd']


@torch.no_grad()
def knowledge_ensemble(feats: Tensor, logits: Tensor, omega: float,
                       temperature: float) -> Tensor:
    """The propagated soft targets ``p_hat``, without gradient.

    ``(1 - omega) (I - omega A)^-1 p`` is computed by solving the linear
    system (``torch.linalg.solve``) rather than forming the inverse; the
    same result, better conditioned. In float32, also under autocast.

    Args:
        feats (Tensor): Pooled features, shape (N, D).
        logits (Tensor): Shape (N, C).
        omega (float): Ensembling weight, in [0, 1).
        temperature (float): T of ``p = softmax(z / T)``.

    Returns:
        Tensor: Shape (N, C), rows summing to 1.
    """
    # Outside autocast: a half-precision f f^T would round the affinities
    # (and overflow the -1e9 mask in fp16); solve takes float32 only.
    with torch.autocast(feats.device.type, enabled=False):
        f = F.normalize(feats.detach().float(), p=2, dim=1)
        p = F.softmax(logits.detach().float() / temperature, dim=1)
        eye = torch.eye(f.size(0), dtype=f.dtype, device=f.device)
        affinity = F.softmax(f @ f.t() - 1e9 * eye, dim=1)
        return (1 - omega) * torch.linalg.solve(eye - omega * affinity, p)


def loss_ensemble_kd(logits: Tensor,
                     feats: Tensor,
                     omega: float = 0.5,
                     temperature: float = 4.0,
                     resoftmax_targets: bool = False) -> Tensor:
    """``T^2 * mean_i KL(sg p_hat_i || softmax(z_i / T))``.

    Args:
        logits (Tensor): Shape (N, C).
        feats (Tensor): The features the head reads, shape (N, D); only
            their detached similarities are used.
        omega (float): Ensembling weight. Defaults to 0.5.
        temperature (float): T. Defaults to 4.
        resoftmax_targets (bool): Use ``softmax(p_hat / T)`` as the target,
            as Self-KD-Lib's ``DistillKL`` does. Defaults to False (BAKE's
            own ``KDLoss``: ``p_hat`` itself).

    Returns:
        Tensor: A scalar.
    """
    t = temperature
    target = knowledge_ensemble(feats, logits, omega, t)
    if resoftmax_targets:
        target = F.softmax(target / t, dim=1)
    log_p = F.log_softmax(logits.float() / t, dim=1)
    # xlogy: 0 * log 0 = 0 for a target entry that underflows to 0.
    kl = (torch.xlogy(target, target) - target * log_p).sum(dim=1)
    return kl.mean() * t * t
