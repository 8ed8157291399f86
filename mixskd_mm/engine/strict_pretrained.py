"""A Pretrained initializer that fails loudly on mismatched backbone keys.

mmengine's ``Pretrained`` initializer loads with ``strict=False``: a wrong
checkpoint (a raw training checkpoint without ``prefix``, a checkpoint of
another depth, a detector) only prints a warning, and fine-tuning then starts
from a randomly initialised backbone. ``StrictPretrained`` raises instead,
naming the counts, the first keys and the fix.

It is registered in mmengine's root ``WEIGHT_INITIALIZERS`` registry, so the
same ``init_cfg`` works in mmdet, mmseg and mmpretrain configs::

    backbone=dict(
        type='ResNet', depth=50, ...,
        init_cfg=dict(type='StrictPretrained',
                      checkpoint='work_dirs/mixskd_r50_imagenet/backbone.pth'))
"""
import logging
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import load_state_dict

from mixskd_mm.checkpoint import (CLASSIFIER_PREFIX, KeyDiff,
                                  compare_state_dicts, is_counter, list_keys,
                                  load_checkpoint_file, module_prefix,
                                  split_classifier, split_prefix,
                                  state_dict_of, strip_wrapper_prefix)

__all__ = ['StrictPretrainedInit']

_EXPORT_HINT = ('this looks like a raw training checkpoint: export its '
                'backbone with `python tools/export_backbone.py CKPT OUT` and '
                'set init_cfg.checkpoint=OUT, or load it as is with '
                "init_cfg.prefix='{prefix}'")


@WEIGHT_INITIALIZERS.register_module(name='StrictPretrained')
class StrictPretrainedInit:
    """Initialize a module from a checkpoint, refusing mismatched keys.

    The checkpoint is read like mmengine's ``Pretrained`` reads it
    (``_load_checkpoint``, the weights under ``state_dict`` or the other
    usual keys, the DDP ``module.`` prefix removed, and with ``prefix`` the
    selection of ``_load_checkpoint_with_prefix``). Its tensors must then
    match the module's state dict exactly, as
    ``load_state_dict(strict=True)`` demands: every tensor present, no
    extra tensor, the same shapes. Otherwise a ``RuntimeError`` names the
    counts, the first few keys and the fix. With ``strict=False`` the
    mismatch is logged as a warning (with the same counts) and only the
    matching tensors are loaded. The tensors are copied in by mmengine's
    ``load_state_dict(strict=True)``.

    A torchvision-keyed ResNet state dict (or the authors' MixSKD backbone,
    a torchvision ResNet) holds its classifier ``fc.*`` inside the backbone.
    When those are the only extra keys and the module has no ``fc``, they
    are dropped with an info line naming them; any other unexpected key
    still refuses.

    BatchNorm's ``num_batches_tracked`` counters are not weights and are
    ignored on both sides when comparing (like mmengine's ``load_state_dict``
    does); when present in the checkpoint they are loaded.

    The loaded tensors are final: ``BaseModule.init_weights`` runs
    initializers other than ``type='Pretrained'`` *before* the children's
    own ``init_weights``, and mmpretrain's ``ResNet`` zeroes the last norm of
    every block afterwards unless its type is ``'Pretrained'``. This
    initializer therefore marks the fully loaded sub-modules as initialised
    and switches off ``zero_init_residual`` on the module it loads into.

    Args:
        checkpoint (str): Path or URI of the checkpoint: a file written by
            ``tools/export_backbone.py``, any mmengine checkpoint (weights
            under ``state_dict``), a torchvision ResNet state dict or another
            plain state dict.
        prefix (str, optional): Load only the tensors whose keys start with
            this prefix, with the prefix removed, e.g. ``'backbone.'`` to
            take the backbone of a classifier training checkpoint. The check
            then applies to that subset. Defaults to None.
        map_location (str): Passed to ``torch.load``. Defaults to 'cpu'.
        strict (bool): Raise on missing/unexpected keys and shape
            mismatches. If False, warn and load the matching tensors.
            Defaults to True.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 map_location: str = 'cpu',
                 strict: bool = True) -> None:
        if not isinstance(checkpoint, str) or not checkpoint:
            raise TypeError('StrictPretrained needs init_cfg.checkpoint, the '
                            'path of a backbone checkpoint, but got '
                            f'{checkpoint!r}')
        self.checkpoint = checkpoint
        self.prefix = None if prefix is None else module_prefix(prefix)
        self.map_location = map_location
        self.strict = strict

    @property
    def _where(self) -> str:
        return self.checkpoint + (f' (prefix {self.prefix!r})'
                                  if self.prefix else '')

    def _source_state_dict(self) -> Dict[str, torch.Tensor]:
        """Read the checkpoint and select the tensors for the module."""
        checkpoint = load_checkpoint_file(self.checkpoint, self.map_location)
        state_dict, _ = state_dict_of(checkpoint, self.checkpoint)
        state_dict = strip_wrapper_prefix(state_dict)
        if self.prefix is None:
            return state_dict
        selected, _ = split_prefix(state_dict, self.prefix)
        if not selected:
            raise RuntimeError(
                f'StrictPretrained: no key of {self.checkpoint!r} starts '
                f'with prefix {self.prefix!r} (first keys: '
                f'{list_keys(list(state_dict))}). If this is an exported '
                'backbone checkpoint (keys like conv1.weight), remove '
                'init_cfg.prefix; otherwise set it to the name of the '
                'backbone module in the checkpoint.')
        return selected

    def _drop_classifier(self, state_dict: Dict[str, torch.Tensor],
                         diff: KeyDiff, module: nn.Module) -> KeyDiff:
        """Drop a torchvision ``fc.*`` when it is the only extra part."""
        if not diff.unexpected or not all(
                k.startswith(CLASSIFIER_PREFIX) for k in diff.unexpected):
            return diff
        kept, dropped = split_classifier(state_dict)
        print_log(
            f'StrictPretrained: dropped the classifier inside the backbone '
            f'of {self._where} ({list_keys(dropped)}): '
            f'{type(module).__name__} has no {CLASSIFIER_PREFIX[:-1]}',
            logger='current')
        return compare_state_dicts(kept, module.state_dict())

    def _mismatch_message(self, module: nn.Module, diff: KeyDiff) -> str:
        lines = [
            f'StrictPretrained: checkpoint {self._where} does not match '
            f'{type(module).__name__}: {diff.counts()}.'
        ] + diff.lines()
        # Name the most likely cause first.
        module_keys = set(module.state_dict())
        raw = [k for k in diff.unexpected if k.startswith('backbone.')]
        if self.prefix is None and raw and any(
                k[len('backbone.'):] in module_keys for k in raw):
            lines.append('Fix: ' + _EXPORT_HINT.format(prefix='backbone.'))
        elif diff.mismatched:
            lines.append('Fix: the checkpoint comes from a different '
                         'architecture (depth, widths or stem); use a '
                         'checkpoint of this backbone, or set '
                         'init_cfg.strict=False to load the matching tensors '
                         'only.')
        else:
            lines.append('Fix: use the checkpoint of this backbone (export '
                         'it with tools/export_backbone.py), or set '
                         'init_cfg.strict=False to allow partial loading.')
        return '\n'.join(lines)

    @staticmethod
    def _keep_loaded(module: nn.Module, loaded: set) -> None:
        """Stop later initialisation from overwriting the loaded tensors."""
        # BaseModule.init_weights calls a child's init_weights unless its
        # ``is_init`` is True; a fully loaded child must not re-initialise.
        for name, child in module.named_modules():
            if not name or not hasattr(child, 'init_weights'):
                continue
            keys = [
                f'{name}.{k}' for k in child.state_dict() if not is_counter(k)
            ]
            if keys and all(k in loaded for k in keys):
                child.is_init = True
        # mmpretrain's ResNet.init_weights zeroes the last norm of every
        # block after the init_cfg ran, unless init_cfg['type'] is exactly
        # 'Pretrained'; the checkpoint provides those norms.
        if getattr(module, 'zero_init_residual', False):
            module.zero_init_residual = False

    def __call__(self, module: nn.Module) -> None:
        state_dict = self._source_state_dict()
        diff = compare_state_dicts(state_dict, module.state_dict())
        diff = self._drop_classifier(state_dict, diff, module)
        if not diff.exact:
            message = self._mismatch_message(module, diff)
            if self.strict:
                raise RuntimeError(message)
            print_log(
                message.replace('StrictPretrained:',
                                'StrictPretrained (strict=False):', 1),
                logger='current',
                level=logging.WARNING)
        if not diff.loadable:
            raise RuntimeError(
                f'StrictPretrained: no tensor of {self.checkpoint!r} fits '
                f'{type(module).__name__}; nothing would be loaded even '
                'with strict=False. Check init_cfg.checkpoint and '
                'init_cfg.prefix.')
        # mmengine's own strict loading: the tensors that fit, and for the
        # module's other entries (strict=False only) their current values.
        full = module.state_dict()
        full.update(diff.loadable)
        load_state_dict(module, full, strict=True)
        self._keep_loaded(module, set(diff.loadable))
        print_log(
            f'StrictPretrained: loaded {len(diff.loadable)} tensors into '
            f'{type(module).__name__} from {self._where}', logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: load from {self._where}'
