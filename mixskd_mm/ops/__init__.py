"""GPU fallbacks for mmcv ops (see :mod:`mixskd_mm.ops.fallback`).

Importing this package changes nothing; ``import mixskd_mm`` applies the
``mmcv_ops_torchvision`` patch (:mod:`mixskd_mm.patches`): with a GPU and an
mmcv built without CUDA kernels, mmcv's ``nms`` and ``roi_align`` run on
CUDA tensors through torchvision's kernels, with one warning.
"""
from .fallback import (FIX_HINT, enable_cuda_fallback_if_needed,
                       fallback_active, fallback_needed,
                       install_torchvision_fallback, mmcv_cuda_version,
                       mmcv_has_cuda_kernels, uninstall_torchvision_fallback)
from .torchvision_ext import (TorchvisionFallbackExt, tv_nms,
                              tv_roi_align_backward, tv_roi_align_forward)

__all__ = [
    'FIX_HINT', 'enable_cuda_fallback_if_needed', 'fallback_active',
    'fallback_needed', 'install_torchvision_fallback', 'mmcv_cuda_version',
    'mmcv_has_cuda_kernels', 'uninstall_torchvision_fallback',
    'TorchvisionFallbackExt', 'tv_nms', 'tv_roi_align_backward',
    'tv_roi_align_forward'
]
