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

:func:`disable_broken_multimodal` runs before anything imports mmpretrain
(``mixskd_mm/__init__.py`` imports this module first). Only when mmpretrain
would turn its multimodal models on *and* transformers lacks the names they
import, it loads mmpretrain's ``dependency`` module on its own, sets
``WITH_MULTIMODAL = False`` there and warns once: the multimodal models are
then registered as placeholders that raise on use, as when transformers is
not installed. Nothing in this plugin uses them.
"""
import importlib
import importlib.util
import os.path as osp
import sys
import warnings
from typing import List, Optional

__all__ = ['missing_multimodal_names', 'disable_broken_multimodal']

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


def disable_broken_multimodal() -> bool:
    """Switch mmpretrain's multimodal models off when transformers breaks them.

    Must run before the first ``import mmpretrain``; once mmpretrain is
    imported (successfully) there is nothing left to do.

    Returns:
        bool: True when the models were switched off (and a warning issued).
    """
    if 'mmpretrain' in sys.modules or _DEPENDENCY in sys.modules:
        return False
    module = _load_dependency_module()
    if module is None or not getattr(module, 'WITH_MULTIMODAL', False):
        return False
    missing = missing_multimodal_names()
    if not missing:
        return False
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
        stacklevel=2)
    return True
