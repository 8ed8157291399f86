"""Reading checkpoints with errors that say what is wrong and how to fix it.

Shared by :func:`mixskd_mm.tools_lib.export_backbone` and the
``StrictPretrained`` initializer, so that both report a missing file, a
corrupt file or a file without weights in the same words.
"""
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch

__all__ = [
    'CheckpointFormatError', 'load_checkpoint_file', 'state_dict_of',
    'strip_wrapper_prefix', 'split_prefix', 'top_level_groups', 'list_keys'
]

# Keys under which known trainers store the weights, most common first:
# mmengine/mmcv ('state_dict'), DeiT/MAE-style scripts ('model') and the
# original MixSKD ImageNet script ('net').
_STATE_DICT_KEYS = ('state_dict', 'model', 'net')


class CheckpointFormatError(ValueError):
    """A checkpoint that cannot be read or does not hold what is expected."""


def load_checkpoint_file(filename: str, map_location: str = 'cpu') -> dict:
    """Load a checkpoint file into a dict.

    Local paths are read with ``torch.load(..., weights_only=False)``:
    mmengine checkpoints pickle a ``message_hub`` with non-tensor objects,
    which the ``weights_only=True`` default of torch >= 2.6 rejects. Paths
    with a scheme (``http://``, ``torchvision://``, ``open-mmlab://`` ...)
    go through mmengine's ``CheckpointLoader``.

    Only load checkpoints you trust: unpickling can run arbitrary code.

    Args:
        filename (str): Local path or URI of the checkpoint.
        map_location (str): Passed to ``torch.load``. Defaults to 'cpu'.

    Returns:
        dict: The loaded checkpoint (an mmengine checkpoint or a plain state
        dict).

    Raises:
        FileNotFoundError: The local file does not exist.
        CheckpointFormatError: The file cannot be unpickled or is not a dict.
    """
    if '://' in filename:
        from mmengine.runner import CheckpointLoader
        checkpoint = CheckpointLoader.load_checkpoint(
            filename, map_location=map_location)
    else:
        if not osp.isfile(filename):
            raise FileNotFoundError(
                f'checkpoint file not found: {filename!r} (relative paths '
                f'are resolved from {os.getcwd()!r}). Check the path, or '
                'produce the file first (a backbone checkpoint comes from '
                '`python tools/export_backbone.py TRAIN_CKPT OUT`).')
        try:
            checkpoint = torch.load(
                filename, map_location=map_location, weights_only=False)
        except Exception as err:  # torch raises many types for bad files
            raise CheckpointFormatError(
                f'cannot read checkpoint {filename!r}: '
                f'{type(err).__name__}: {err}. The file is truncated, '
                'corrupt or not a PyTorch checkpoint; save or copy it '
                'again.') from err
    if not isinstance(checkpoint, dict):
        raise CheckpointFormatError(
            f'checkpoint {filename!r} holds a {type(checkpoint).__name__}, '
            'not a dict of weights (was a whole model saved with '
            'torch.save(model)? Save model.state_dict() instead).')
    return checkpoint


def state_dict_of(
    checkpoint: dict,
    filename: str = '<checkpoint>'
) -> Tuple['OrderedDict[str, torch.Tensor]', Optional[str]]:
    """Find the weights inside a loaded checkpoint.

    Args:
        checkpoint (dict): A loaded checkpoint.
        filename (str): Its path, for error messages.
            Defaults to '<checkpoint>'.

    Returns:
        tuple: The state dict and the top-level key it was found under
        (``None`` when the checkpoint itself is a state dict).

    Raises:
        CheckpointFormatError: No dict of tensors was found.
    """
    for key in _STATE_DICT_KEYS:
        if isinstance(checkpoint.get(key), dict):
            state_dict, where = checkpoint[key], key
            break
    else:
        state_dict, where = checkpoint, None
    tensors = [v for v in state_dict.values() if torch.is_tensor(v)]
    if not tensors:
        raise CheckpointFormatError(
            f'checkpoint {filename!r} has no weights: found no tensors under '
            f'{" / ".join(repr(k) for k in _STATE_DICT_KEYS)} or at the top '
            f'level (top-level keys: {sorted(checkpoint)[:10]}). Pass the '
            'checkpoint written by training, e.g. work_dirs/<exp>/'
            'epoch_N.pth.')
    return state_dict, where


def strip_wrapper_prefix(
        state_dict: Dict[str,
                         torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """Remove the ``module.`` prefix that (Distributed)DataParallel adds.

    mmengine's ``load_checkpoint`` does the same by default
    (``revise_keys=[(r'^module\\.', '')]``).

    Args:
        state_dict (dict): Weights, possibly saved from a wrapped model.

    Returns:
        OrderedDict: The weights with a leading ``module.`` removed.
    """
    return OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state_dict.items())


def split_prefix(state_dict: Dict[str, torch.Tensor],
                 prefix: str) -> Tuple['OrderedDict[str, torch.Tensor]', list]:
    """Split weights into those under ``prefix`` (stripped) and the rest.

    Args:
        state_dict (dict): Weights.
        prefix (str): A sub-module prefix such as ``'backbone.'``; a
            missing trailing dot is added.

    Returns:
        tuple: ``(kept, others)``: an OrderedDict of the prefixed tensors
        with the prefix removed, and the list of the other keys.
    """
    if not prefix.endswith('.'):
        prefix += '.'
    kept, others = OrderedDict(), []
    for key, value in state_dict.items():
        if key.startswith(prefix):
            kept[key[len(prefix):]] = value
        else:
            others.append(key)
    return kept, others


def top_level_groups(keys) -> 'OrderedDict[str, int]':
    """Count keys per top-level module name (the part before the first dot).

    Args:
        keys (Iterable[str]): State dict keys.

    Returns:
        OrderedDict: ``{group: count}`` in first-seen order.
    """
    groups = OrderedDict()
    for key in keys:
        group = key.split('.', 1)[0]
        groups[group] = groups.get(group, 0) + 1
    return groups


def list_keys(keys, limit: int = 5) -> str:
    """The first ``limit`` keys, comma-separated, and how many more follow.
    """
    keys = list(keys)
    text = ', '.join(keys[:limit])
    if len(keys) > limit:
        text += f', ... ({len(keys) - limit} more)'
    return text
