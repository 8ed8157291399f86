"""Install the torchvision NMS/RoIAlign fallback when mmcv lacks CUDA kernels.

:mod:`mixskd_mm.patches` applies it on ``import mixskd_mm``
(``mmcv_ops_torchvision``; :func:`enable_cuda_fallback_if_needed` does the
same). On a machine where torch sees a GPU but mmcv was built without its
CUDA kernels (``mmcv.ops.get_compiling_cuda_version()`` is
``'not available'``), it puts a
:class:`~mixskd_mm.ops.torchvision_ext.TorchvisionFallbackExt` in place of
``ext_module`` in ``mmcv.ops.nms`` and ``mmcv.ops.roi_align`` and warns once.
CPU tensors keep mmcv's own kernels; without a GPU, or with a CUDA build of
mmcv, nothing is touched (mmcv.ops is not even imported).
"""
import functools
import warnings
from typing import Callable, Dict, Optional

import torch
from torch import Tensor

from .torchvision_ext import TorchvisionFallbackExt, is_cuda

__all__ = ['mmcv_cuda_version', 'mmcv_has_cuda_kernels',
           'install_torchvision_fallback', 'uninstall_torchvision_fallback',
           'fallback_active', 'fallback_needed', 'install_fallback_and_warn',
           'enable_cuda_fallback_if_needed', 'PATCHED_MODULES', 'FIX_HINT']

#: The mmcv modules whose ``ext_module`` global the fallback replaces.
PATCHED_MODULES = ('mmcv.ops.nms', 'mmcv.ops.roi_align')

#: How to get mmcv's native CUDA kernels.
FIX_HINT = ('rebuild mmcv with its CUDA kernels on this GPU machine: '
            '`FORCE_SETUP=1 bash tools/setup_env.sh` (it builds with '
            'FORCE_CUDA=1 and needs an nvcc whose major version matches '
            "torch.version.cuda; see 'GPU set-up' in README.md)")

_saved: Dict[str, object] = {}


@functools.lru_cache(maxsize=1)
def mmcv_cuda_version() -> str:
    """The CUDA version mmcv's extension was compiled with.

    Returns:
        str: e.g. ``'13.0'``, or ``'not available'`` for a CPU-only build.
    """
    from mmcv.ops import get_compiling_cuda_version
    return str(get_compiling_cuda_version())


def mmcv_has_cuda_kernels() -> bool:
    """Whether mmcv's extension was compiled with CUDA (checked once)."""
    return mmcv_cuda_version() not in ('not available', '', 'None')


def install_torchvision_fallback(
        routes: Callable[[Tensor], bool] = is_cuda) -> None:
    """Route mmcv's nms/roi_align for ``routes(tensor)`` to torchvision.

    Args:
        routes (callable): ``routes(tensor) -> bool``. Defaults to CUDA
            tensors; tests pass ``lambda t: True`` to exercise the path on
            CPU tensors.
    """
    import importlib
    uninstall_torchvision_fallback()
    for name in PATCHED_MODULES:
        module = importlib.import_module(name)
        _saved[name] = module.ext_module
        module.ext_module = TorchvisionFallbackExt(module.ext_module, routes)


def uninstall_torchvision_fallback() -> None:
    """Give mmcv its own extension module back (no-op when not installed)."""
    import importlib
    for name, ext in list(_saved.items()):
        importlib.import_module(name).ext_module = ext
        del _saved[name]


def fallback_active() -> bool:
    """Whether the torchvision fallback is installed."""
    return bool(_saved)


def fallback_needed(cuda_available: Optional[bool] = None) -> bool:
    """Whether a GPU meets an mmcv built without CUDA kernels.

    Args:
        cuda_available (bool, optional): Defaults to
            ``torch.cuda.is_available()``.

    Returns:
        bool: False without a GPU (mmcv.ops is then not imported), with a
        CUDA build of mmcv, or (with a warning) with no mmcv.ops at all.
    """
    if cuda_available is None:
        cuda_available = torch.cuda.is_available()
    if not cuda_available:
        return False
    try:
        return not mmcv_has_cuda_kernels()
    except ImportError as err:  # mmcv-lite: no extension at all
        warnings.warn(f'mixskd_mm: mmcv.ops cannot be imported ({err}); '
                      f'nothing to fall back from. Fix: {FIX_HINT}.')
        return False


def install_fallback_and_warn() -> None:
    """Install the fallback for CUDA tensors and say so, with the fix."""
    install_torchvision_fallback()
    warnings.warn(
        'mixskd_mm: torch sees a GPU but mmcv was built without its CUDA '
        "kernels (mmcv.ops.get_compiling_cuda_version() is 'not "
        "available'), so mmcv's nms and roi_align would stop with "
        "'implementation for device cuda:0 not found'. They now run on "
        "CUDA tensors through torchvision's kernels (same results); other "
        f'mmcv ops still have no GPU kernel. For native kernels, {FIX_HINT}.',
        stacklevel=3)


def enable_cuda_fallback_if_needed(
        cuda_available: Optional[bool] = None) -> bool:
    """Install the fallback (and warn once) when a GPU meets a CPU-only mmcv.

    ``import mixskd_mm`` does the same through :mod:`mixskd_mm.patches`
    (``mmcv_ops_torchvision``); ``cuda_available`` lets tests pretend.

    Args:
        cuda_available (bool, optional): Defaults to
            ``torch.cuda.is_available()``.

    Returns:
        bool: True when the fallback was installed by this call.
    """
    if fallback_active() or not fallback_needed(cuda_available):
        return False
    install_fallback_and_warn()
    return True
