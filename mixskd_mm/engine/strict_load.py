"""Whole-model checkpoint loading that refuses a checkpoint that does not fit.

mmengine's ``Runner.load_checkpoint`` (``load_from``, ``--resume`` and the
checkpoint of ``tools/test.py``) loads with ``strict=False``: a checkpoint of
another model only logs "missing keys in source state_dict" and the run goes
on with randomly initialised layers, e.g. a detector evaluated with a
classifier's checkpoint reports ``bbox_mAP: 0.0`` and exits 0.

:func:`with_strict_load` gives any Runner class a ``load_checkpoint`` that
compares the checkpoint with the model first and raises
:class:`CheckpointMismatchError` when a tensor of the model is missing from
the checkpoint or has another shape there, naming the counts, the first keys
and the fix. Tensors the model lacks (the training-only parts of a
distillation checkpoint loaded into a plain classifier) are logged, not
refused: every weight of the model is loaded. ``load_strict=False`` in the
config (``--cfg-options load_strict=False``) loads a partial checkpoint on
purpose, with a warning. The loading itself stays mmengine's
(``_load_checkpoint``, the ``after_load_checkpoint`` hooks,
``_load_checkpoint_to_model`` with its ``revise_keys``).
"""
import logging
from typing import Callable, Dict, Sequence, Tuple, Type, Union

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)

from ..checkpoint.keys import KeyDiff, compare_state_dicts, is_counter
from ..checkpoint.reading import STRIP_WRAPPER, strip_wrapper_prefix
from ..utils.model import unwrap_model

__all__ = [
    'CheckpointMismatchError', 'check_checkpoint_fits', 'with_strict_load',
    'StrictLoadRunner', 'LOAD_STRICT_KEY'
]

#: The config key that turns the check into a warning (default True).
LOAD_STRICT_KEY = 'load_strict'


class CheckpointMismatchError(RuntimeError):
    """A checkpoint lacks tensors of the model or has them in another
    shape."""


def check_checkpoint_fits(
        model: nn.Module,
        checkpoint: dict,
        filename: str,
        strict: bool = True,
        revise_keys: Sequence[Tuple[str, str]] = STRIP_WRAPPER
) -> KeyDiff:
    """Refuse (or, not strict, warn about) a checkpoint that misses tensors.

    Args:
        model (nn.Module): The model to load into (not a wrapper).
        checkpoint (dict): The loaded checkpoint: a dict with
            ``state_dict``, or a state dict itself (as mmengine reads it).
        filename (str): The checkpoint's path, for the message.
        strict (bool): Raise when tensors are missing or misshapen; else
            log a warning. Defaults to True.
        revise_keys (list[tuple]): ``(pattern, replacement)`` pairs applied
            to the checkpoint's keys first, as in
            ``Runner.load_checkpoint``. Defaults to stripping ``module.``.

    Returns:
        KeyDiff: The comparison (:mod:`mixskd_mm.checkpoint.keys`).

    Raises:
        CheckpointMismatchError: If ``strict`` and the checkpoint lacks a
            model tensor or has one in another shape.
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    target = model.state_dict()
    diff = compare_state_dicts(
        strip_wrapper_prefix(state_dict, revise_keys), target)
    # Whole models: the per-module counts tell a missing head from a
    # checkpoint of another architecture.
    lines = '\n'.join(diff.lines(groups=True))
    num_model = sum(not is_counter(k) for k in target)
    head = (f'checkpoint {filename} vs model {type(model).__name__} '
            f'({num_model} tensors)')
    if diff.complete:
        if lines:
            print_log(
                f'{head}: every model tensor loaded; the tensors the model '
                f'lacks are ignored:\n{lines}',
                logger='current', level=logging.WARNING)
        return diff
    if not strict:
        print_log(
            f'{head}: {LOAD_STRICT_KEY}=False, loading the matching '
            f'tensors only; the others keep their initialisation: '
            f'{diff.counts()}\n{lines}',
            logger='current', level=logging.WARNING)
        return diff
    raise CheckpointMismatchError(
        f'{head}: the checkpoint does not fit the model, whose layers '
        f'would run with random weights: {diff.counts()}\n{lines}' +
        '\nGive the checkpoint that training with this config saved '
        '(work_dirs/<config>/epoch_N.pth or iter_N.pth). To start a '
        'detector or segmentor from a pretrained backbone, set '
        "model.backbone.init_cfg=dict(type='StrictPretrained', "
        'checkpoint=...) instead of load_from. To load the matching tensors '
        f'on purpose, add --cfg-options {LOAD_STRICT_KEY}=False.')


class _StrictLoadMixin:
    """``load_checkpoint`` that checks the checkpoint against the model."""

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: Sequence = STRIP_WRAPPER) -> dict:
        """Load a checkpoint as mmengine's Runner does, refusing misfits.

        ``strict=True`` (mmengine's own flag) also refuses tensors the model
        lacks. Otherwise the config's ``load_strict`` (default True)
        decides whether missing or misshapen tensors raise
        :class:`CheckpointMismatchError` or log a warning.

        Args:
            filename (str): Checkpoint path or URL.
            map_location (str | Callable): See ``torch.load``.
                Defaults to 'cpu'.
            strict (bool): mmengine's strict loading. Defaults to False.
            revise_keys (list): Key rewrites; defaults to stripping
                ``module.``.

        Returns:
            dict: The checkpoint.
        """
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = unwrap_model(self.model)
        check_checkpoint_fits(model, checkpoint, filename,
                              self.cfg.get(LOAD_STRICT_KEY, True),
                              revise_keys)
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint


_STRICT_CLASSES: Dict[type, type] = {}


def with_strict_load(runner_cls: Type[Runner]) -> Type[Runner]:
    """The subclass of ``runner_cls`` whose loading refuses misfits.

    Args:
        runner_cls (type): A Runner class (mmengine's or a scope's).

    Returns:
        type: ``runner_cls`` itself if it already checks, else a cached
        subclass named ``Strict<name>``.
    """
    if issubclass(runner_cls, _StrictLoadMixin):
        return runner_cls
    if runner_cls not in _STRICT_CLASSES:
        _STRICT_CLASSES[runner_cls] = type(
            f'Strict{runner_cls.__name__}', (_StrictLoadMixin, runner_cls),
            {'__doc__': f'{runner_cls.__name__} with strict loading.'})
    return _STRICT_CLASSES[runner_cls]


#: mmengine's Runner with the check; ``runner_type='StrictLoadRunner'``.
StrictLoadRunner = RUNNERS.register_module(
    name='StrictLoadRunner', force=True)(with_strict_load(Runner))
