"""mixskd_mm: self-knowledge distillation from mixup (MixSKD) for OpenMMLab.

Importing the package registers every component (use it in a config with
``custom_imports = dict(imports=['mixskd_mm'], allow_failed_imports=False)``)
and applies the compatibility fixes of :mod:`mixskd_mm.patches`, whose
``PATCHES`` says what each replaces, why and when (``python
tools/check_env.py`` prints the active ones);
:func:`~mixskd_mm.patches.undo_patches` takes them back.
"""
from .patches import apply_patches

# First, before anything imports mmpretrain: the mmpretrain_multimodal_off
# patch must act before mmpretrain reads its WITH_MULTIMODAL flag. Each
# patch imports only what it replaces, and applies once.
apply_patches()

from . import compat, patches  # noqa: E402,F401
from . import datasets, engine, models, ops  # noqa: E402,F401

__version__ = '0.1.0'
__all__ = ['compat', 'datasets', 'engine', 'models', 'ops', 'patches',
           '__version__']
