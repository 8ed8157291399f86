"""The DKS term that only DKS has, named after its loss key.

DKS, "Deeply-supervised Knowledge Synergy" (Sun et al., CVPR 2019,
https://arxiv.org/abs/1906.00675), as released in Self-KD-Lib
(``methods/dks.py``; ``main.py``: ``DistillKL(T=4)``)::

    L = sum_k CE(z_k, y) + sum_{j != k} KD_T(z_j <- sg z_k)

over the backbone's head and every auxiliary head (three classifiers give
six ordered pairs). The CE sum is the shared :func:`~.functional.loss_ce`.
"""
from typing import Sequence

from torch import Tensor

from . import functional

__all__ = ['loss_synergy_kd']


def loss_synergy_kd(logits: Sequence[Tensor], temperature: float) -> Tensor:
    """``sum_{j != k} KD_T(z_j <- sg z_k)``: pairwise knowledge synergy.

    Every classifier learns the detached soft targets of every other one
    (:func:`~.functional.loss_kd`, T^2 times the batch-mean KL), both
    directions of every pair.

    Args:
        logits (Sequence[Tensor]): All classifiers' logits, each
            (N, num_classes); at least two.
        temperature (float): T.

    Returns:
        Tensor: A scalar.
    """
    if len(logits) < 2:
        raise ValueError('knowledge synergy needs at least two classifiers, '
                         f'got {len(logits)}')
    return sum(
        functional.loss_kd(student, teacher, temperature)
        for j, student in enumerate(logits)
        for k, teacher in enumerate(logits) if j != k)
