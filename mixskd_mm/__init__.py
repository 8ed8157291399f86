"""mixskd_mm: self-knowledge distillation from mixup (MixSKD) for OpenMMLab.

Importing the package registers every component (use it in a config with
``custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)``)
and applies the compatibility fixes of :mod:`mixskd_mm.compat`,
:mod:`mixskd_mm.multimodal_guard` (transformers >= 5) and
:mod:`mixskd_mm.ops` (torchvision NMS/RoIAlign on a GPU when mmcv was built
without its CUDA kernels).
"""
from .multimodal_guard import disable_broken_multimodal

# Before anything imports mmpretrain: transformers >= 5 breaks its
# multimodal models (see mixskd_mm.multimodal_guard).
disable_broken_multimodal()

from . import compat  # noqa: E402,F401  (fixes mmengine on modern torch)
from . import datasets, engine, models, ops  # noqa: E402,F401

__version__ = '0.1.0'
__all__ = ['compat', 'datasets', 'engine', 'models', 'ops', '__version__']
