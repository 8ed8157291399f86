"""Library code behind the command-line tools in ``tools/``.

The scripts in ``tools/`` are thin wrappers so that pipelines (the demo, the
tests) can call the same logic in-process.
"""
from .checkpoint import (CheckpointFormatError, load_checkpoint_file,
                         split_prefix, state_dict_of, strip_wrapper_prefix,
                         top_level_groups)
from .export import export_backbone

__all__ = [
    'CheckpointFormatError', 'load_checkpoint_file', 'state_dict_of',
    'strip_wrapper_prefix', 'split_prefix', 'top_level_groups',
    'export_backbone'
]
