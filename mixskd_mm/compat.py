"""Replacements for what mmengine 0.10.7 breaks on torch >= 2.6, numpy 2.4.

Importing this module changes nothing; :mod:`mixskd_mm.patches` installs
these on ``import mixskd_mm`` (and says when and why):

- :func:`load_from_local` replaces mmengine's local checkpoint loader
  (``checkpoint_local_loader``) so that resuming, ``load_from`` and
  ``init_cfg=dict(type='Pretrained')`` work under torch's
  ``weights_only=True`` default without running a checkpoint's code;
  mmengine's http(s) loader gets :func:`~mixskd_mm.checkpoint.safe_load_url`
  with the same rules (``checkpoint_url_loader``).
- :func:`_in1d` stands in for ``numpy.in1d`` (removed in numpy 2.4) for
  mmpretrain's retrieval metrics (``numpy_in1d``).

The CPU-distributed set-up lives in :mod:`mixskd_mm.engine.distributed`.
"""
import os.path as osp
from typing import Any, Optional

import numpy as np

from .checkpoint.safe_load import safe_torch_load

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
# The local loader is replaced by one that stays weights-only and allows
# exactly the globals mmengine checkpoints hold
# (mixskd_mm.checkpoint.safe_load); full unpickling needs
# MIXSKD_TRUST_CHECKPOINTS=1. The function name must start with
# 'load_from_': CheckpointLoader logs `name[10:]` ('local') as the backend.
def load_from_local(filename: str, map_location: Any = None) -> Any:
    """Load a local checkpoint without running its pickle's code.

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
        UntrustedCheckpointError: The pickle names other globals; the
            message names them, the file and the opt-in.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


# mmengine's http(s) loader, which torchvision://, open-mmlab:// and
# mmcls:// call as well, reads the download with its module-level
# `load_url` (torch.hub.load_state_dict_from_url, whose default is still
# weights_only=False in torch 2.14): the checkpoint_url_loader patch swaps
# in safe_load_url so that a URL in `load_from` or `init_cfg` cannot run
# code either.


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
# (mmpretrain has had no release since 1.2.0). Installed by the numpy_in1d
# patch only where numpy lacks in1d.
