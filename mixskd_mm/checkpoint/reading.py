"""Reading checkpoints with errors that say what is wrong and how to fix it.

Shared by :func:`mixskd_mm.checkpoint.export_backbone` and the
``StrictPretrained`` initializer, so that both report a missing file, a
corrupt or unsafe file, or a file without weights in the same words. Every
path goes through mmengine's ``CheckpointLoader`` (``_load_checkpoint``),
whose local and http(s) loaders :mod:`mixskd_mm.compat` replaces with the
weights-only ones of :mod:`.safe_load`.
"""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.runner.checkpoint import _load_checkpoint

from .errors import CheckpointFormatError
from .safe_load import safe_torch_load

__all__ = [
    'load_checkpoint_file', 'state_dict_of', 'strip_wrapper_prefix',
    'module_prefix', 'split_prefix', 'STATE_DICT_KEYS', 'STRIP_WRAPPER'
]

#: Keys under which known trainers store the weights, most common first:
#: mmengine/mmcv ('state_dict'), DeiT/MAE-style scripts ('model') and the
#: authors' MixSKD ImageNet script ('net').
STATE_DICT_KEYS = ('state_dict', 'model', 'net')

#: mmengine's default ``revise_keys`` of ``load_checkpoint``: the
#: ``module.`` prefix that (Distributed)DataParallel adds.
STRIP_WRAPPER = ((r'^module\.', ''), )


def load_checkpoint_file(filename: str,
                         map_location: str = 'cpu',
                         trust: Optional[bool] = None) -> dict:
    """Load a checkpoint file into a dict, weights-only by default.

    Local paths are read with :func:`.safe_load.safe_torch_load`; paths with
    a scheme (``http://``, ``torchvision://``, ``open-mmlab://`` ...) go
    through mmengine's ``CheckpointLoader`` (weights-only as well once
    :mod:`mixskd_mm.compat` is imported).

    Args:
        filename (str): Local path or URI of the checkpoint.
        map_location (str): Passed to ``torch.load``. Defaults to 'cpu'.
        trust (bool, optional): Unpickle a local file fully (see
            :func:`.safe_load.trust_requested`). Defaults to None.

    Returns:
        dict: The loaded checkpoint (an mmengine checkpoint or a plain state
        dict).

    Raises:
        FileNotFoundError: The local file does not exist.
        UntrustedCheckpointError: The pickle needs globals outside the
            allow-list (a :class:`CheckpointFormatError`).
        CheckpointFormatError: The file cannot be unpickled or is not a dict.
    """
    if re.match(r'^[\w+.-]+:', filename) and '://' in filename:
        checkpoint = _load_checkpoint(filename, map_location=map_location)
    else:
        if not osp.isfile(osp.expanduser(filename)):
            raise FileNotFoundError(
                f'checkpoint file not found: {filename!r} (relative paths '
                f'are resolved from {os.getcwd()!r}). Check the path, or '
                'produce the file first (a backbone checkpoint comes from '
                '`python tools/export_backbone.py TRAIN_CKPT OUT`).')
        # A truncated or foreign file raises the named error of
        # errors.unreadable_checkpoint, as in load_from and --resume.
        checkpoint = safe_torch_load(
            osp.expanduser(filename), map_location, trust=trust,
            source=repr(filename))
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
    for key in STATE_DICT_KEYS:
        if isinstance(checkpoint.get(key), dict):
            state_dict, where = checkpoint[key], key
            break
    else:
        state_dict, where = checkpoint, None
    tensors = [v for v in state_dict.values() if torch.is_tensor(v)]
    if not tensors:
        raise CheckpointFormatError(
            f'checkpoint {filename!r} has no weights: found no tensors under '
            f'{" / ".join(repr(k) for k in STATE_DICT_KEYS)} or at the top '
            f'level (top-level keys: {sorted(checkpoint)[:10]}). Pass the '
            'checkpoint written by training, e.g. work_dirs/<exp>/'
            'epoch_N.pth.')
    return state_dict, where


def strip_wrapper_prefix(
    state_dict: Dict[str, torch.Tensor],
    revise_keys: Sequence[Tuple[str, str]] = STRIP_WRAPPER
) -> 'OrderedDict[str, torch.Tensor]':
    """Rename the keys as mmengine's ``load_checkpoint`` does.

    By default this removes the ``module.`` prefix that
    (Distributed)DataParallel adds, as mmengine's ``revise_keys`` default.

    Args:
        state_dict (dict): Weights, possibly saved from a wrapped model.
        revise_keys (Sequence[tuple]): ``(pattern, replacement)`` pairs
            applied in turn with :func:`re.sub`, as in mmengine's
            ``_load_checkpoint_to_model``. Defaults to
            :data:`STRIP_WRAPPER`.

    Returns:
        OrderedDict: The weights under the revised keys.
    """
    for pattern, replacement in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, replacement, k), v)
                                 for k, v in state_dict.items())
    return OrderedDict(state_dict)


def module_prefix(prefix: str) -> str:
    """``prefix`` with the trailing dot that separates it from the keys.

    ``'backbone'`` and ``'backbone.'`` both mean the sub-module
    ``backbone``; without the dot ``'backbone'`` would also select
    ``'backbone2.*'``.
    """
    return prefix if prefix.endswith('.') else prefix + '.'


def split_prefix(state_dict: Dict[str, torch.Tensor],
                 prefix: str) -> Tuple['OrderedDict[str, torch.Tensor]', list]:
    """Split weights into those under ``prefix`` (stripped) and the rest.

    The selection of mmengine's ``_load_checkpoint_with_prefix``, which
    also returns what it leaves out.

    Args:
        state_dict (dict): Weights.
        prefix (str): A sub-module prefix such as ``'backbone.'``; a
            missing trailing dot is added.

    Returns:
        tuple: ``(kept, others)``: an OrderedDict of the prefixed tensors
        with the prefix removed, and the list of the other keys.
    """
    prefix = module_prefix(prefix)
    kept, others = OrderedDict(), []
    for key, value in state_dict.items():
        if key.startswith(prefix):
            kept[key[len(prefix):]] = value
        else:
            others.append(key)
    return kept, others
