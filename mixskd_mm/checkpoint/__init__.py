"""The checkpoint layer: safe reading, key comparison, backbone export.

Used by the ``StrictPretrained`` initializer (runtime), by mmengine's
checkpoint loaders (registered in :mod:`mixskd_mm.compat`) and by
``tools/export_backbone.py``:

- :mod:`.safe_load`: ``torch.load(weights_only=True)`` with exactly the
  globals mmengine checkpoints hold; full unpickling only on opt-in.
- :mod:`.reading`: load a checkpoint file, find its weights, strip the DDP
  ``module.`` prefix, select a sub-module prefix.
- :mod:`.keys`: compare a checkpoint's state dict with a module's
  (missing / unexpected / shape mismatches).
- :mod:`.export`: write the backbone of a classification checkpoint.
- :mod:`.atomic_write`: the atomic ``torch.save`` of every checkpoint this
  package writes (training, ``last_checkpoint``, export).
"""
from .atomic_write import atomic_torch_save
from .errors import (CheckpointFormatError, UntrustedCheckpointError,
                     unreadable_checkpoint)
from .export import FORMATS, export_backbone
from .keys import (CLASSIFIER_PREFIX, KeyDiff, compare_state_dicts,
                   is_counter, list_keys, split_classifier, top_level_groups)
from .reading import (STRIP_WRAPPER, load_checkpoint_file, module_prefix,
                      split_prefix, state_dict_of, strip_wrapper_prefix)
from .safe_load import (CHECKPOINT_GLOBALS, TRUST_ENV, safe_load_url,
                        safe_torch_load, trust_requested)

__all__ = [
    'CheckpointFormatError', 'UntrustedCheckpointError',
    'unreadable_checkpoint', 'FORMATS',
    'export_backbone', 'atomic_torch_save', 'CLASSIFIER_PREFIX', 'KeyDiff',
    'compare_state_dicts', 'is_counter', 'list_keys', 'split_classifier',
    'top_level_groups',
    'load_checkpoint_file', 'module_prefix', 'split_prefix', 'state_dict_of',
    'strip_wrapper_prefix', 'STRIP_WRAPPER', 'CHECKPOINT_GLOBALS', 'TRUST_ENV',
    'safe_load_url', 'safe_torch_load', 'trust_requested'
]
