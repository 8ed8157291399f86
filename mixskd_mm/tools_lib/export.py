"""Export the deployable backbone of a classification training checkpoint.

A pretraining checkpoint of this project (MixSKD, FRSKD, KD, ... or a plain
mmpretrain ``ImageClassifier``) holds the backbone under ``backbone.*``, the
classifier under ``head.*`` and training-only parts (``branches.*``,
``self_teacher.*``, ``teacher.*``, ...). Detection and segmentation need only
the backbone, keyed like mmdet's and mmseg's ``ResNet`` (``conv1.weight``,
``bn1.*``, ``layer1.0.conv1.weight``, ...).

Why a separate export step: mmengine's ``Pretrained`` initializer loads with
``strict=False``, so a raw training checkpoint given without ``prefix``
leaves the detector's backbone randomly initialised with only a warning in a
long log (the original MixSKD downstream repositories have the same trap).
The exported file is checked here once, and loaded by the ``StrictPretrained``
initializer, which refuses any mismatch.

Example:
    >>> from mixskd_mm.tools_lib import export_backbone
    >>> info = export_backbone('work_dirs/mixskd_r50_imagenet/epoch_305.pth',
    ...                        'work_dirs/mixskd_r50_imagenet/backbone.pth')
    >>> info['kept'], dict(info['dropped_groups'])  # doctest: +SKIP
    (318, {'head': 2, 'branches': 486, 'branch_heads': 6, 'self_teacher': 1,
           'teacher_head': 2})
"""
import copy
import os
import os.path as osp
import re
import tempfile
from typing import Optional, Tuple

import torch

from .checkpoint import (CheckpointFormatError, list_keys,
                         load_checkpoint_file, split_prefix, state_dict_of,
                         strip_wrapper_prefix, top_level_groups)

__all__ = ['export_backbone']

# Top-level modules that only detectors and segmentors have. Their presence
# means the checkpoint is a downstream model, not a pretraining classifier.
_DOWNSTREAM_GROUPS = ('rpn_head', 'roi_head', 'bbox_head', 'mask_head',
                      'query_head', 'decode_head', 'auxiliary_head')
_BN_TENSORS = ('weight', 'bias', 'running_mean', 'running_var')
_RESNET_GROUPS = re.compile(r'^(conv1|bn1|stem|layer[1-4])\.')


def _refuse_non_classifier(state_dict: dict, meta: dict, filename: str,
                           prefix: str) -> None:
    """Stop early on checkpoints that are not classification pretraining."""
    groups = top_level_groups(state_dict)
    has_prefix = any(k.startswith(prefix) for k in state_dict)
    if 'exported_by' in meta or (not has_prefix and 'layer1' in groups):
        raise CheckpointFormatError(
            f'{filename!r} is already a backbone-only checkpoint (keys like '
            f'{next(iter(state_dict))!r} have no {prefix!r} prefix). Use it '
            'directly as init_cfg.checkpoint; there is nothing to export.')
    downstream = [g for g in groups if g in _DOWNSTREAM_GROUPS]
    if downstream:
        raise CheckpointFormatError(
            f'{filename!r} is a detection/segmentation checkpoint (it has '
            f'{", ".join(downstream)}), not a classification pretraining '
            'checkpoint. Export from the checkpoint written by the ImageNet '
            'pretraining (work_dirs/<pretrain exp>/epoch_N.pth).')
    if not has_prefix:
        raise CheckpointFormatError(
            f'{filename!r} is not a classifier checkpoint: no key starts '
            f'with {prefix!r} (top-level groups: {list_keys(groups)}). Pass '
            'a pretraining checkpoint, or set --prefix to the name of the '
            'backbone module in this checkpoint.')


def _saved_config(meta: dict) -> Tuple[Optional[object], str]:
    """Parse the training config that mmengine stores in ``meta['cfg']``.

    Returns:
        tuple: ``(cfg, note)``; ``cfg`` is None when there is no usable
        config and ``note`` says why.
    """
    from mmengine.config import Config
    cfg_text = meta.get('cfg')
    if not cfg_text:
        return None, 'the checkpoint has no meta.cfg'
    try:
        if isinstance(cfg_text, dict):
            return Config(cfg_text), ''
        return Config.fromstring(cfg_text, file_format='.py'), ''
    except Exception as err:  # a config can fail in many ways; fall back
        return None, f'meta.cfg cannot be parsed ({type(err).__name__}: {err})'


def _expected_backbone(cfg) -> Tuple[Optional[dict], Optional[dict], str]:
    """Build the backbone of a saved config and return its tensor shapes.

    Returns:
        tuple: ``(shapes, backbone_cfg, note)`` where ``shapes`` maps each
        state-dict key to its shape, or is None (``note`` says why).
    """
    from mmengine.registry import MODELS
    model_cfg = cfg.get('model') or {}
    backbone_cfg = model_cfg.get('backbone')
    if not isinstance(backbone_cfg, dict):
        return None, None, 'meta.cfg has no model.backbone'
    backbone_cfg = copy.deepcopy(backbone_cfg)
    # Only the architecture matters: loading weights here would be slow and
    # could fail on paths of the training machine.
    backbone_cfg.pop('init_cfg', None)
    backbone_cfg.pop('pretrained', None)
    backbone_cfg.setdefault('_scope_',
                            cfg.get('default_scope') or 'mmpretrain')
    try:
        backbone = MODELS.build(copy.deepcopy(backbone_cfg))
    except Exception as err:  # unknown type, plugin not installed, ...
        return None, backbone_cfg, (
            f'the backbone of meta.cfg cannot be built '
            f'({type(err).__name__}: {err})')
    shapes = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    return shapes, backbone_cfg, ''


def _check_against_config(backbone: dict, shapes: dict, filename: str) -> None:
    """Compare exported tensors with the backbone built from meta.cfg."""

    # num_batches_tracked is a step counter, not a weight; torchvision-style
    # checkpoints omit it, and StrictPretrained ignores it as well.
    def weights(keys):
        return {k for k in keys if not k.endswith('num_batches_tracked')}

    missing = sorted(weights(shapes) - weights(backbone))
    unexpected = sorted(weights(backbone) - weights(shapes))
    mismatched = [
        f'{k}: checkpoint {tuple(backbone[k].shape)} vs config {shapes[k]}'
        for k in sorted(weights(shapes) & weights(backbone))
        if tuple(backbone[k].shape) != shapes[k]
    ]
    if not (missing or unexpected or mismatched):
        return
    lines = [
        f'the backbone tensors of {filename!r} do not match the backbone '
        'built from its own saved config (meta.cfg):'
    ]
    if missing:
        lines.append(f'  missing ({len(missing)}): {list_keys(missing)}')
    if unexpected:
        lines.append(
            f'  unexpected ({len(unexpected)}): {list_keys(unexpected)}')
    if mismatched:
        lines.append(f'  shape mismatches ({len(mismatched)}): '
                     f'{list_keys(mismatched, 3)}')
    lines.append('The checkpoint was truncated, edited or written by other '
                 'code; export from the original training checkpoint.')
    raise CheckpointFormatError('\n'.join(lines))


def _check_resnet_layout(backbone: dict, filename: str) -> None:
    """Check that a ResNet backbone has every stage, without a config.

    Requires the stem (``conv1`` + ``bn1``, or a deep ``stem.*``) and, in
    each of ``layer1`` .. ``layer4``, every conv/BN tensor of every block
    from 0 to the highest block index found. A missing *last* block cannot
    be told from a shallower network without the config.
    """
    keys = set(backbone)
    missing = []
    if not any(k.startswith('stem.') for k in keys):
        stem = ['conv1.weight'] + [f'bn1.{t}' for t in _BN_TENSORS]
        missing += [k for k in stem if k not in keys]
    convs = (1, 2, 3) if 'layer1.0.conv3.weight' in keys else (1, 2)
    for stage in range(1, 5):
        blocks = {
            int(k.split('.')[1])
            for k in keys
            if k.startswith(f'layer{stage}.') and k.split('.')[1].isdigit()
        }
        if not blocks:
            missing.append(f'layer{stage}.* (the whole stage)')
            continue
        for block in range(max(blocks) + 1):
            for conv in convs:
                name = f'layer{stage}.{block}'
                required = [f'{name}.conv{conv}.weight'
                            ] + [f'{name}.bn{conv}.{t}' for t in _BN_TENSORS]
                missing += [k for k in required if k not in keys]
    unexpected = sorted(k for k in keys if not _RESNET_GROUPS.match(k))
    if not (missing or unexpected):
        return
    lines = [f'{filename!r} does not hold a complete ResNet backbone:']
    if missing:
        lines.append(f'  missing ({len(missing)}): {list_keys(missing)}')
    if unexpected:
        lines.append('  not part of a ResNet '
                     f'({len(unexpected)}): {list_keys(unexpected)}')
    lines.append('The checkpoint is truncated or not a ResNet classifier; '
                 'export from a complete training checkpoint.')
    raise CheckpointFormatError('\n'.join(lines))


def _plain(value):
    """Turn ConfigDicts into plain dicts so that the exported file loads
    with ``torch.load(weights_only=True)`` (the torch >= 2.6 default)."""
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def export_backbone(ckpt_path: str,
                    out_path: str,
                    prefix: str = 'backbone.') -> dict:
    """Write the backbone of a classifier training checkpoint to a new file.

    The output is ``{'state_dict': {...}, 'meta': {...}}``: the tensors under
    ``prefix`` with the prefix removed (the key layout of mmdet's and mmseg's
    ``ResNet``), and provenance (source path, classifier and backbone config
    when the checkpoint saved its config, whether EMA weights were taken).
    With mmengine's ``EMAHook`` the checkpoint's ``state_dict`` already holds
    the EMA weights (the raw ones are in ``ema_state_dict``), so the export
    takes ``state_dict`` in both cases and records ``ema``.

    The backbone is checked before anything is written: against the backbone
    built from the checkpoint's saved config (``meta.cfg``) when that works,
    otherwise for a complete ResNet (stem and the blocks of layer1-4).

    Args:
        ckpt_path (str): Training checkpoint of a classifier.
        out_path (str): Where to write the backbone checkpoint; parent
            directories are created. It must differ from ``ckpt_path``.
        prefix (str): Name of the backbone module in the classifier.
            Defaults to 'backbone.'.

    Returns:
        dict: ``kept`` (number of tensors written), ``dropped`` (number of
        tensors left out), ``dropped_groups`` (OrderedDict ``{top-level
        module: tensor count}``), ``ema`` (bool), ``check`` (how the backbone
        was verified), ``out_path`` and ``meta`` (the metadata written).

    Raises:
        FileNotFoundError: ``ckpt_path`` does not exist.
        CheckpointFormatError: The file is corrupt, is not a classifier
            checkpoint (e.g. an already exported backbone or a detector), or
            its backbone is incomplete. The message says which and what to
            do.
    """
    if not prefix.endswith('.'):
        prefix += '.'
    if osp.abspath(out_path) == osp.abspath(ckpt_path):
        raise CheckpointFormatError(
            f'the output path {out_path!r} is the input checkpoint; choose '
            'another output path (e.g. backbone.pth next to it).')
    checkpoint = load_checkpoint_file(ckpt_path)
    state_dict, _ = state_dict_of(checkpoint, ckpt_path)
    state_dict = strip_wrapper_prefix(state_dict)
    meta = checkpoint.get('meta')
    meta = meta if isinstance(meta, dict) else {}
    _refuse_non_classifier(state_dict, meta, ckpt_path, prefix)

    backbone, others = split_prefix(state_dict, prefix)
    cfg, note = _saved_config(meta)
    shapes = backbone_cfg = None
    if cfg is not None:
        shapes, backbone_cfg, note = _expected_backbone(cfg)
    if shapes is not None:
        _check_against_config(backbone, shapes, ckpt_path)
        check = (f'matches the backbone of meta.cfg '
                 f'({backbone_cfg.get("type")})')
    else:
        _check_resnet_layout(backbone, ckpt_path)
        check = f'complete ResNet stages (no config check: {note})'

    out_meta = dict(
        exported_by='mixskd_mm.tools_lib.export_backbone',
        source=osp.abspath(ckpt_path),
        prefix=prefix,
        ema='ema_state_dict' in checkpoint,
        classifier=(cfg.get('model') or {}).get('type') if cfg else None,
        backbone=_plain(backbone_cfg),
        epoch=meta.get('epoch'),
        iter=meta.get('iter'),
        check=check)
    out_dir = osp.dirname(osp.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    # Write to a temporary file first so that an interrupted export never
    # leaves a truncated backbone.pth behind.
    fd, tmp_path = tempfile.mkstemp(suffix='.pth.tmp', dir=out_dir)
    os.close(fd)
    try:
        torch.save({'state_dict': backbone, 'meta': out_meta}, tmp_path)
        os.replace(tmp_path, out_path)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
    return dict(
        kept=len(backbone),
        dropped=len(others),
        dropped_groups=top_level_groups(others),
        ema=out_meta['ema'],
        check=check,
        out_path=out_path,
        meta=out_meta)
