"""Keep ``import mmpretrain`` alive next to transformers >= 5.

mmpretrain 1.2.0 imports its multimodal models (BLIP, BLIP-2, OFA, RAM, ...)
whenever ``pycocotools`` and ``transformers>=4.28`` are installed
(``mmpretrain.utils.dependency.WITH_MULTIMODAL``, read by
``mmpretrain/models/multimodal/__init__.py``, ``models/utils/__init__.py``
and ``datasets/__init__.py``). That code was written for transformers 4:
transformers 5 moved ``apply_chunking_to_forward``,
``find_pruneable_heads_and_indices`` and ``prune_linear_layer`` out of
``transformers.modeling_utils``, mmpretrain's ``try/except`` turns the failed
import into ``PreTrainedModel = None``, and ``import mmpretrain`` dies with
``TypeError: NoneType takes no arguments`` at
``class BertPreTrainedModel(PreTrainedModel)``.

The ``mmpretrain_multimodal_off`` patch of :mod:`mixskd_mm.patches` runs
before anything imports mmpretrain (``mixskd_mm/__init__.py`` applies the
patches first; this module imports nothing of mixskd_mm, so it also runs on
its own). Only when mmpretrain would turn its multimodal models on *and*
transformers lacks the names they import, it loads mmpretrain's
``dependency`` module on its own, sets ``WITH_MULTIMODAL = False`` there and
warns once: the multimodal models are then registered as placeholders
that raise on use, as when transformers is not installed. Nothing in this
plugin uses them.
"""
import importlib
import importlib.util
import os.path as osp
import sys
import warnings
from typing import List, Optional

__all__ = ['missing_multimodal_names', 'disable_broken_multimodal',
           'multimodal_switch_needed', 'multimodal_switched_off',
           'switch_multimodal_off', 'restore_multimodal']

_DEPENDENCY = 'mmpretrain.utils.dependency'

#: Names that mmpretrain 1.2.0's multimodal models import from
#: ``transformers.modeling_utils`` (blip, blip2, ram, ofa).
MULTIMODAL_NAMES = ('PreTrainedModel', 'apply_chunking_to_forward',
                    'find_pruneable_heads_and_indices', 'prune_linear_layer',
                    'GenerationMixin')


def missing_multimodal_names() -> List[str]:
    """Names mmpretrain's multimodal models need that transformers lacks.

    Imports ``transformers.modeling_utils`` (mmpretrain would import it
    anyway when its multimodal models are on).

    Returns:
        list[str]: The missing names of :data:`MULTIMODAL_NAMES`; all of them
        when ``transformers.modeling_utils`` cannot be imported; empty when
        the multimodal models can be imported.
    """
    try:
        utils = importlib.import_module('transformers.modeling_utils')
    except Exception:  # any failure here is what breaks mmpretrain too
        return list(MULTIMODAL_NAMES)
    return [name for name in MULTIMODAL_NAMES if not hasattr(utils, name)]


def _load_dependency_module() -> Optional[object]:
    """Execute ``mmpretrain/utils/dependency.py`` without importing mmpretrain.

    Returns:
        module | None: The module (not yet in ``sys.modules``), or None when
        mmpretrain is not installed.
    """
    spec = importlib.util.find_spec('mmpretrain')
    if spec is None or not spec.submodule_search_locations:
        return None
    path = osp.join(list(spec.submodule_search_locations)[0], 'utils',
                    'dependency.py')
    if not osp.isfile(path):
        return None
    dep_spec = importlib.util.spec_from_file_location(_DEPENDENCY, path)
    module = importlib.util.module_from_spec(dep_spec)
    dep_spec.loader.exec_module(module)
    return module


#: What :func:`switch_multimodal_off` changed: the dependency module, its
#: flag before, and whether this module put it into ``sys.modules``.
_state: dict = {}


def _dependency_module() -> Optional[object]:
    """mmpretrain's ``dependency`` module, without importing mmpretrain.

    Returns:
        module | None: The imported one if there is one; else the file run
        on its own (kept for :func:`switch_multimodal_off`); None when
        mmpretrain is missing or was imported without it (too late).
    """
    if _DEPENDENCY in sys.modules:
        return sys.modules[_DEPENDENCY]
    if 'mmpretrain' in sys.modules:
        return None
    if _state.get('loaded') is None:
        _state['loaded'] = _load_dependency_module()
    return _state['loaded']


def multimodal_switch_needed() -> bool:
    """Whether mmpretrain would turn on multimodal models that cannot load.

    Returns:
        bool: True when its ``WITH_MULTIMODAL`` is on and transformers
        lacks a name of :data:`MULTIMODAL_NAMES`.
    """
    module = _dependency_module()
    if module is None or not getattr(module, 'WITH_MULTIMODAL', False):
        return False
    return bool(missing_multimodal_names())


def multimodal_switched_off() -> bool:
    """Whether :func:`switch_multimodal_off` is in effect."""
    return 'module' in _state


def switch_multimodal_off() -> None:
    """Set mmpretrain's ``WITH_MULTIMODAL`` to False and warn (once).

    The module goes into ``sys.modules``, so that ``import mmpretrain``
    uses it instead of running the file again.
    """
    module = _dependency_module()
    missing = missing_multimodal_names()
    _state.update(module=module, flag=module.WITH_MULTIMODAL,
                  injected=_DEPENDENCY not in sys.modules)
    module.WITH_MULTIMODAL = False
    sys.modules[_DEPENDENCY] = module
    version = getattr(sys.modules.get('transformers'), '__version__', '?')
    warnings.warn(
        f'mixskd_mm: transformers {version} lacks {", ".join(missing)} in '
        'transformers.modeling_utils, which mmpretrain 1.2.0\'s multimodal '
        'models (BLIP, OFA, RAM, ...) import, so `import mmpretrain` would '
        'fail with "TypeError: NoneType takes no arguments". Those models '
        'are switched off (placeholders that raise on use); everything '
        'else works. To use them, install "transformers>=4.28,<5".',
        stacklevel=3)


def restore_multimodal() -> None:
    """Undo :func:`switch_multimodal_off`.

    The flag gets its old value back. Before ``import mmpretrain`` the
    module also leaves ``sys.modules`` again; after it, mmpretrain has
    registered the multimodal placeholders already, which stay.
    """
    module = _state.pop('module')
    module.WITH_MULTIMODAL = _state.pop('flag')
    if _state.pop('injected') and 'mmpretrain' not in sys.modules:
        sys.modules.pop(_DEPENDENCY, None)


def disable_broken_multimodal() -> bool:
    """Switch mmpretrain's multimodal models off when transformers breaks them.

    Must run before the first ``import mmpretrain``; once mmpretrain is
    imported (successfully) there is nothing left to do. ``import
    mixskd_mm`` does this through :mod:`mixskd_mm.patches`
    (``mmpretrain_multimodal_off``).

    Returns:
        bool: True when the models were switched off (and a warning issued).
    """
    if multimodal_switched_off() or not multimodal_switch_needed():
        return False
    switch_multimodal_off()
    return True
