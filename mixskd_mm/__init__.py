"""mixskd_mm: self-knowledge distillation from mixup (MixSKD) for OpenMMLab.

Importing the package registers every component (use it in a config with
``custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)``)
and applies the compatibility fixes of :mod:`mixskd_mm.compat`.
"""
from . import compat  # noqa: F401  (first: fixes mmengine on modern torch)
from . import engine, models  # noqa: F401

__version__ = '0.1.0'
__all__ = ['compat', 'engine', 'models', '__version__']
