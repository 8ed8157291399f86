"""Mixed-sample draws as small pure functions.

Every function takes the random decisions it needs from an explicit
:class:`numpy.random.Generator` and returns them, so that a classifier can mix
features and logits with exactly the lambda and partner that mixed the
images (the point of MixSKD, Yang et al., ECCV 2022,
https://arxiv.org/abs/2208.05768). Nothing is kept on a module.

Notation (docs: ``reference-methods.md`` section 1.2):
``x_mix[i] = lam[i] * x[i] + (1 - lam[i]) * x[index[i]]``.
For box-pasting modes ``lam[i]`` is the fraction of sample ``i`` that is
still its own pixels.
"""
import math
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
import torch
from torch import Tensor

from ...utils.validate import check_number

__all__ = [
    'MixBatch', 'sample_beta', 'interpolate', 'random_box', 'paste_boxes',
    'draw_mixup', 'draw_cutmix', 'draw_cutnmix', 'draw_partial_mixup',
    'unbiased_round', 'check_num_patches', 'check_mixed_fraction'
]


@dataclass
class MixBatch:
    """The result of one mixing draw, handed explicitly to the classifier.

    Attributes:
        mixed (Tensor): The mixed images, shape (N, C, H, W).
        lam (Tensor): Float tensor of shape (N, ): the weight of sample ``i``
            itself in ``mixed[i]`` (1 means unmixed).
        index (Tensor): Long tensor of shape (N, ): the partner of sample
            ``i``, a permutation of ``range(N)``.
    """
    mixed: Tensor
    lam: Tensor
    index: Tensor


def _partners(n: int, rng: np.random.Generator, device) -> Tensor:
    """The partner of each sample: a random permutation of ``range(n)``.

    Pairs are formed by shuffling the batch, as in the authors' code
    (``torch.randperm``), not by splitting it into halves.
    """
    return torch.as_tensor(rng.permutation(n), device=device)


def check_num_patches(value, key: str = 'num_patches') -> int:
    """The number of boxes Cut^nMix pastes: an int >= 1."""
    return check_number(value, key, 1, integer=True)


def check_mixed_fraction(value, key: str = 'mixed_fraction') -> float:
    """The fraction of a batch that partial mixup mixes: in [0, 1]."""
    return check_number(value, key, 0, 1, why='a fraction of the batch')


def sample_beta(alpha: float, rng: np.random.Generator, size=None):
    """Draw lambda ~ Beta(alpha, alpha); ``alpha <= 0`` means no mixing."""
    if alpha <= 0:
        return 1.0 if size is None else np.ones(size)
    return rng.beta(alpha, alpha, size=size)


def _per_sample(lam: Tensor, like: Tensor) -> Tensor:
    """Reshape ``lam`` (N, ) to broadcast against ``like`` (N, ...)."""
    return lam.to(like.dtype).view(-1, *([1] * (like.dim() - 1)))


def interpolate(t: Tensor, lam: Tensor, index: Tensor) -> Tensor:
    """The interpolation of ``t`` with its partners.

    ``out[i] = lam[i] * t[i] + (1 - lam[i]) * t[index[i]]``: the quantity
    that MixSKD calls the ensemble of the two originals (F-bar, z-bar).

    Args:
        t (Tensor): Any tensor of shape (N, ...), e.g. images, feature maps
            (N, C, H, W) or logits (N, num_classes).
        lam (Tensor): Shape (N, ).
        index (Tensor): Long tensor of shape (N, ).

    Returns:
        Tensor: Same shape as ``t``.
    """
    w = _per_sample(lam, t)
    return w * t + (1 - w) * t[index]


def random_box(height: int, width: int, area_ratio: float,
               rng: np.random.Generator) -> Tuple[int, int, int, int]:
    """A box covering about ``area_ratio`` of the image, clipped to it.

    The centre is uniform over the image and the box keeps the image's
    aspect ratio, as in CutMix (Yun et al., ICCV 2019).

    Returns:
        tuple: ``(y1, y2, x1, x2)``, half-open pixel bounds.
    """
    cut = np.sqrt(max(area_ratio, 0.0))
    cut_h, cut_w = int(height * cut), int(width * cut)
    cy, cx = rng.integers(height), rng.integers(width)
    y1, y2 = np.clip([cy - cut_h // 2, cy + cut_h // 2], 0, height)
    x1, x2 = np.clip([cx - cut_w // 2, cx + cut_w // 2], 0, width)
    return int(y1), int(y2), int(x1), int(x2)


def paste_boxes(x: Tensor, index: Tensor,
                boxes: List[Tuple[int, int, int, int]]) -> Tuple[Tensor,
                                                                 float]:
    """Paste the partner's pixels inside ``boxes`` into each image.

    Overlapping boxes are counted once: lambda is recomputed from the area
    really pasted.

    Args:
        x (Tensor): Images, shape (N, C, H, W).
        index (Tensor): Partners, shape (N, ).
        boxes (list[tuple]): ``(y1, y2, x1, x2)`` boxes, the same for the
            whole batch.

    Returns:
        tuple: The mixed images (N, C, H, W) and lambda, the fraction of
        each image left unpasted.
    """
    h, w = x.shape[-2:]
    mask = torch.zeros(h, w, dtype=torch.bool, device=x.device)
    for y1, y2, x1, x2 in boxes:
        mask[y1:y2, x1:x2] = True
    mixed = torch.where(mask, x[index], x)
    lam = 1.0 - mask.sum().item() / float(h * w)
    return mixed, lam


def _full(n: int, value: float, device) -> Tensor:
    return torch.full((n, ), float(value), device=device)


def draw_mixup(x: Tensor, alpha: float,
               rng: np.random.Generator) -> MixBatch:
    """Mixup with one lambda ~ Beta(alpha, alpha) per batch.

    This is the MixSKD draw (reference-methods.md section 1.3): one scalar
    lambda per mini-batch and a random permutation of the batch.
    """
    n = x.size(0)
    lam = _full(n, sample_beta(alpha, rng), x.device)
    index = _partners(n, rng, x.device)
    # Mixup (Zhang et al., 2018) blends each image with its partner.
    return MixBatch(interpolate(x, lam, index), lam, index)


def draw_cutmix(x: Tensor, alpha: float,
                rng: np.random.Generator) -> MixBatch:
    """CutMix: paste one box of the partner; lambda from the box's area."""
    return draw_cutnmix(x, alpha, 1, rng)


def draw_cutnmix(x: Tensor,
                 alpha: float,
                 num_patches: int,
                 rng: np.random.Generator) -> MixBatch:
    """Cut^nMix: paste ``num_patches`` boxes of the partner.

    Lambda ~ Beta(alpha, alpha) sets the target pasted area ``1 - lambda``,
    split evenly over the patches, each placed independently. Overlaps and
    clipping at the border are accounted for: the returned lambda is the
    area really left. With ``num_patches=1`` this is CutMix.

    Note:
        The exact construction of Shen et al. (arXiv 2206.12370) is not
        public; this is the design documented in
        :class:`~mixskd_mm.models.classifiers.CutnMixOnlineDistiller` and
        ``docs/methods.md``.
    """
    num_patches = check_num_patches(num_patches)
    n, (h, w) = x.size(0), x.shape[-2:]
    target = 1.0 - float(sample_beta(alpha, rng))
    index = _partners(n, rng, x.device)
    boxes = [
        random_box(h, w, target / num_patches, rng)
        for _ in range(num_patches)
    ]
    mixed, lam = paste_boxes(x, index, boxes)
    return MixBatch(mixed, _full(n, lam, x.device), index)


def unbiased_round(value: float, rng: np.random.Generator) -> int:
    """``floor(value)`` or ``floor(value) + 1``, with mean ``value``.

    The fractional part is the probability of rounding up; ``value`` is
    first rounded to 9 decimals so that float noise (``0.1 * 30`` is
    3.0000000000000004) does not make an integer count random.
    """
    value = round(float(value), 9)
    base = math.floor(value)
    return base + int(rng.random() < value - base)


def draw_partial_mixup(x: Tensor,
                       alpha: float,
                       mixed_fraction: float,
                       rng: np.random.Generator,
                       with_replacement: bool = False) -> MixBatch:
    """Partial mixup of MIX-KD (Choi et al., WACV 2023).

    Each sample gets its own lambda ~ Beta(alpha, alpha); then only a subset
    of the batch stays mixed, the rest get lambda = 1 (unmixed).

    Args:
        x (Tensor): Images, shape (N, C, H, W).
        alpha (float): Beta parameter.
        mixed_fraction (float): The fraction of samples that stay mixed,
            exactly in expectation for every batch size: with
            ``m = mixed_fraction * N``, ``floor(m) + 1`` samples are mixed
            with probability ``m - floor(m)``, else ``floor(m)`` (unbiased
            rounding; e.g. 6 or 7 of 64, 6.4 on average, for 0.1; 1 or 2 of
            a last batch of 16). When ``m`` is an integer exactly ``m``.
        rng (np.random.Generator): Random source.
        with_replacement (bool): Reproduce the released code, which resets
            ``int((1 - mixed_fraction) * N)`` indices drawn *with*
            replacement, so that many more samples stay mixed than asked
            (about 41% instead of 10% for N = 64). Defaults to False.
    """
    mixed_fraction = check_mixed_fraction(mixed_fraction)
    n = x.size(0)
    lam = np.asarray(sample_beta(alpha, rng, size=n), dtype=np.float64)
    if with_replacement:
        unmixed = rng.integers(0, n, size=int((1 - mixed_fraction) * n))
    else:
        num_mixed = unbiased_round(mixed_fraction * n, rng)
        unmixed = rng.permutation(n)[num_mixed:]
    lam[unmixed] = 1.0
    lam_t = torch.as_tensor(lam, dtype=torch.float32, device=x.device)
    index = _partners(n, rng, x.device)
    return MixBatch(interpolate(x, lam_t, index), lam_t, index)
