"""Fixes for what mmengine 0.10.7 / mmcv 2.1.0 break on torch >= 2.6, numpy 2.

Importing :mod:`mixskd_mm` imports this module first, which applies the
process-wide fixes at once:

- :func:`load_from_local` replaces mmengine's local checkpoint loader so that
  resuming, ``load_from`` and ``init_cfg=dict(type='Pretrained')`` work under
  torch's ``weights_only=True`` default.
- ``numpy.in1d`` (removed in numpy 2.4) is aliased for mmpretrain's
  retrieval metrics.

The CPU-distributed set-up lives in :mod:`mixskd_mm.engine.distributed`.
"""
import os.path as osp
from typing import Any, Optional

import numpy as np
import torch
from mmengine.runner import CheckpointLoader

__all__ = ['load_from_local']


# ---------------------------------------------------------------------------
# 1. Checkpoints under torch.load(weights_only=True)
# ---------------------------------------------------------------------------
# torch >= 2.6 defaults torch.load to weights_only=True, which refuses the
# HistoryBuffer and numpy objects that mmengine stores in a checkpoint's
# `message_hub`, so `--resume`, `load_from` and `init_cfg=Pretrained` fail
# with "UnpicklingError: Weights only load failed" (open-mmlab/mmengine#1655,
# PR open-mmlab/mmengine#1650). Fixed upstream in mmengine commit 151a87ab
# (#1670), which no release contains: mmengine 0.10.7 is the newest on PyPI.
# The function name must start with 'load_from_': CheckpointLoader logs
# `name[10:]` ('local') as the backend.
#
# http(s):// (and so torchvision://, open-mmlab://, mmcls://) needs no fix:
# mmengine's `load_url` is torch.hub.load_state_dict_from_url there, which
# still defaults to weights_only=False (tests/test_compat.py guards this).
@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str, map_location: Any = None) -> Any:
    """Load a checkpoint from a local path, trusting its pickled objects.

    Only load checkpoints you trust: ``weights_only=False`` runs the pickle.

    Args:
        filename (str): Path of the checkpoint; ``~`` is expanded.
        map_location (str | torch.device | Callable, optional): Same as in
            :func:`torch.load`. Defaults to None.

    Returns:
        Any: The loaded object, usually a dict with ``state_dict``, ``meta``
        and, for mmengine checkpoints, ``message_hub``.

    Raises:
        FileNotFoundError: If ``filename`` is not a file, as mmengine's own
            loader does.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


# ---------------------------------------------------------------------------
# 2. numpy >= 2.4 removed np.in1d
# ---------------------------------------------------------------------------
def _in1d(ar1: Any,
          ar2: Any,
          assume_unique: bool = False,
          invert: bool = False,
          *,
          kind: Optional[str] = None) -> np.ndarray:
    """``np.in1d`` as numpy < 2.4 defined it: ``np.isin`` on flat input.

    Args:
        ar1 (array_like): Values to look up; flattened.
        ar2 (array_like): Values to look in.
        assume_unique (bool): See :func:`numpy.isin`. Defaults to False.
        invert (bool): See :func:`numpy.isin`. Defaults to False.
        kind (str, optional): See :func:`numpy.isin`. Defaults to None.

    Returns:
        np.ndarray: A 1-D boolean array as long as ``ar1`` flattened.
    """
    return np.isin(
        np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert,
        kind=kind)


# numpy 2.4 removed np.in1d, deprecated since 2.0 (numpy/numpy#29978,
# "DEP: remove in1d"); mmpretrain 1.2.0 still calls it in
# mmpretrain/evaluation/metrics/retrieval.py (RetrievalRecall,
# RetrievalAveragePrecision) and raises AttributeError. Not fixed upstream
# (mmpretrain has had no release since 1.2.0).
if not hasattr(np, 'in1d'):
    np.in1d = _in1d
