"""Summaries over seeds: mean, spread and the paired difference of methods.

Pure functions on lists of floats, so that the report's numbers can be
checked by hand.
"""
import math
from typing import Dict, Optional, Sequence

__all__ = ['t_quantile_975', 'summarize', 'paired_difference']

# Two-sided 95 % quantiles of Student's t, t_{0.975, df}, df = 1..30.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
         2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101,
         2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052,
         2.048, 2.045, 2.042)


def t_quantile_975(df: int) -> float:
    """t_{0.975, df}: the half-width factor of a 95 % interval.

    Raises:
        ValueError: When ``df < 1``.
    """
    if df < 1:
        raise ValueError(f'degrees of freedom must be >= 1, got {df}')
    return _T975[df - 1] if df <= len(_T975) else 1.960


def summarize(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """Mean and sample standard deviation (``std`` None for one value)."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError('no values to summarize')
    n = len(values)
    mean = sum(values) / n
    std = (math.sqrt(sum((v - mean)**2 for v in values) / (n - 1))
           if n > 1 else None)
    return dict(n=n, mean=mean, std=std)


def paired_difference(a: Sequence[float],
                      b: Sequence[float]) -> Dict[str, Optional[float]]:
    """``b - a`` seed by seed: mean and its 95 % t-interval.

    Pairing by seed removes what the two runs of one seed share (the data
    order, the augmentations); the interval is
    ``mean +- t_{0.975, n-1} * std / sqrt(n)`` of the n differences
    (``low``/``high`` None for n = 1).
    """
    if len(a) != len(b):
        raise ValueError(f'paired values need equal counts, got {len(a)} '
                         f'and {len(b)}')
    summary = summarize([y - x for x, y in zip(a, b)])
    n, mean, std = summary['n'], summary['mean'], summary['std']
    if std is None:
        return dict(n=n, mean=mean, low=None, high=None)
    half = t_quantile_975(n - 1) * std / math.sqrt(n)
    return dict(n=n, mean=mean, low=mean - half, high=mean + half)
