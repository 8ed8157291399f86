"""What the backbone export checks before it writes anything.

Each check raises :class:`.CheckpointFormatError` with what is wrong and
what to do: a checkpoint that is not classification pretraining, tensors
that do not fit the backbone of the training config, an incomplete ResNet,
non-finite weights.
"""
import copy
import re
from typing import Dict, Optional, Tuple

import torch

from .errors import CheckpointFormatError
from .keys import CLASSIFIER_PREFIX, compare_state_dicts, list_keys

__all__ = [
    'source_format', 'saved_config', 'expected_backbone',
    'check_against_config', 'check_resnet_layout', 'check_finite'
]

# Top-level modules that only detectors and segmentors have. Their presence
# means the checkpoint is a downstream model, not a pretraining classifier.
_DOWNSTREAM_GROUPS = ('rpn_head', 'roi_head', 'bbox_head', 'mask_head',
                      'query_head', 'decode_head', 'auxiliary_head')
_BN_TENSORS = ('weight', 'bias', 'running_mean', 'running_var')
_RESNET_GROUPS = re.compile(r'^(conv1|bn1|stem|layer[1-4])\.')
# The authors' ImageNet MixSKD model (reference-methods.md 1.4, 1.7.5).
_AUTHORS_GROUPS = ('auxiliary_classifier', 'final_aux_classifier')


def source_format(state_dict: Dict[str, torch.Tensor], meta: dict,
                  where: Optional[str], filename: str, prefix: str) -> str:
    """Tell which kind of checkpoint this is; refuse what cannot export.

    Args:
        state_dict (dict): Its weights, ``module.`` already stripped.
        meta (dict): Its ``meta`` (empty when it has none).
        where (str, optional): The top-level key of the weights.
        filename (str): For messages.
        prefix (str): Name of the backbone module, with the trailing dot.

    Returns:
        str: ``'authors'`` (the authors' release, ``{'net': ...}`` with
        ``auxiliary_classifier``), ``'torchvision'`` (a ResNet state dict
        with its ``fc`` classifier) or ``'classifier'`` (any other
        checkpoint with ``prefix``).

    Raises:
        CheckpointFormatError: An exported backbone, a detector/segmentor
            or a checkpoint without ``prefix``.
    """
    groups = {k.split('.', 1)[0] for k in state_dict}
    has_prefix = any(k.startswith(prefix) for k in state_dict)
    resnet_keys = not has_prefix and 'layer1' in groups
    if resnet_keys and 'fc' in groups and 'exported_by' not in meta:
        return 'torchvision'
    if 'exported_by' in meta or resnet_keys:
        raise CheckpointFormatError(
            f'{filename!r} is already a backbone-only checkpoint (keys like '
            f'{next(iter(state_dict))!r} have no {prefix!r} prefix). Use it '
            'directly as init_cfg.checkpoint; there is nothing to export.')
    downstream = [g for g in _DOWNSTREAM_GROUPS if g in groups]
    if downstream:
        raise CheckpointFormatError(
            f'{filename!r} is a detection/segmentation checkpoint (it has '
            f'{", ".join(downstream)}), not a classification pretraining '
            'checkpoint. Export from the checkpoint written by the ImageNet '
            'pretraining (work_dirs/<pretrain exp>/epoch_N.pth).')
    if not has_prefix:
        raise CheckpointFormatError(
            f'{filename!r} is not a classifier checkpoint: no key starts '
            f'with {prefix!r} (top-level groups: {list_keys(sorted(groups))}'
            '). Pass a pretraining checkpoint, or set --prefix to the name '
            'of the backbone module in this checkpoint.')
    if where == 'net' and any(g in groups for g in _AUTHORS_GROUPS):
        return 'authors'
    return 'classifier'


def saved_config(meta: dict) -> Tuple[Optional[object], str]:
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


def expected_backbone(cfg) -> Tuple[Optional[dict], Optional[dict], str]:
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


def check_against_config(backbone: dict, shapes: dict, filename: str) -> None:
    """Compare exported tensors with the backbone built from meta.cfg."""
    diff = compare_state_dicts(backbone, shapes)
    if diff.exact:
        return
    raise CheckpointFormatError('\n'.join(
        [f'the backbone tensors of {filename!r} do not match the backbone '
         f'built from its own saved config (meta.cfg): {diff.counts()}:'] +
        diff.lines(target='config') +
        ['The checkpoint was truncated, edited or written by other code; '
         'export from the original training checkpoint.']))


def check_resnet_layout(backbone: dict, filename: str) -> None:
    """Check that a ResNet backbone has every stage, without a config.

    Requires the stem (``conv1`` + ``bn1``, or a deep ``stem.*``) and, in
    each of ``layer1`` .. ``layer4``, every conv/BN tensor of every block
    from 0 to the highest block index found. A missing *last* block cannot
    be told from a shallower network without the config.
    """
    keys = set(backbone)
    if not any(_RESNET_GROUPS.match(k) for k in keys):
        # ConvNeXt, Swin, MobileNetV2, ...: only their config can tell
        # whether every tensor is there.
        raise CheckpointFormatError(
            f'{filename!r} saves no config to check its backbone against, '
            'and the backbone is not a ResNet (its keys: '
            f'{list_keys(sorted(keys))}): export from the checkpoint that '
            'the training run wrote (mmengine saves the config in its '
            "'meta'), or check the tensors yourself.")
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
            name = f'layer{stage}.{block}'
            for conv in convs:
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


def check_finite(backbone: Dict[str, torch.Tensor], filename: str) -> None:
    """Refuse NaN or Inf in any floating-point tensor to be exported."""
    bad = [
        k for k, v in backbone.items()
        if v.is_floating_point() and not bool(torch.isfinite(v).all())
    ]
    if bad:
        raise CheckpointFormatError(
            f'{filename!r} holds non-finite values (NaN or Inf) in '
            f'{len(bad)} backbone tensor(s): {list_keys(bad)}. The training '
            'run diverged (look for loss: nan in its log); export a '
            'checkpoint from before the divergence, or fix the run (lower '
            'the learning rate, check the temperature and loss weights) '
            'and train again.')


def wants_classifier(shapes: Optional[dict]) -> bool:
    """Whether the backbone of the config itself has an ``fc``."""
    return any(k.startswith(CLASSIFIER_PREFIX) for k in shapes or {})
