"""Export the deployable backbone of a classification checkpoint.

Three inputs give the same output:

- a pretraining checkpoint of this project (MixSKD, FRSKD, KD, ... or a
  plain mmpretrain ``ImageClassifier``): the backbone under ``backbone.*``,
  the classifier under ``head.*``, training-only parts (``branches.*``,
  ``self_teacher.*``, ``teacher.*``, ...);
- the authors' released MixSKD ImageNet weights: ``{'net': ...}`` with the
  DDP ``module.`` prefix, a torchvision ResNet under ``backbone.*`` (its own
  classifier ``backbone.fc`` included), ``auxiliary_classifier.*`` and
  ``final_aux_classifier.*``;
- a torchvision-keyed ResNet state dict (``conv1.weight``, ``bn1.*``,
  ``layer1.0.conv1.weight``, ..., ``fc.*``).

The output holds only the ResNet, keyed like mmdet's and mmseg's ``ResNet``
(the torchvision names without ``fc``), for ``init_cfg=dict(
type='StrictPretrained', checkpoint=OUT)``.

Why a separate export step: mmengine's ``Pretrained`` initializer loads with
``strict=False``, so a raw training checkpoint given without ``prefix``
leaves the detector's backbone randomly initialised with only a warning in a
long log (the original MixSKD downstream repositories have the same trap).

Example:
    >>> from mixskd_mm.checkpoint import export_backbone
    >>> info = export_backbone('work_dirs/mixskd_r50_imagenet/epoch_305.pth',
    ...                        'work_dirs/mixskd_r50_imagenet/backbone.pth')
    >>> info['kept'], dict(info['dropped_groups'])  # doctest: +SKIP
    (318, {'head': 2, 'branches': 486, 'branch_heads': 6, 'self_teacher': 1,
           'teacher_head': 2})
"""
import os.path as osp
from collections import OrderedDict
from typing import Optional

from ..utils.plain import to_plain
from .atomic_write import atomic_torch_save
from .backbone_checks import (check_against_config, check_finite,
                              check_resnet_layout, expected_backbone,
                              saved_config, source_format, wants_classifier)
from .errors import CheckpointFormatError
from .keys import split_classifier, top_level_groups
from .reading import (load_checkpoint_file, module_prefix, split_prefix,
                      state_dict_of, strip_wrapper_prefix)

__all__ = ['export_backbone', 'FORMATS']

#: What :func:`export_backbone` reports it read, by format.
FORMATS = {
    'classifier': 'a classifier training checkpoint',
    'authors': "the authors' MixSKD release format ({'net': ...}, DDP "
               "'module.' prefix, auxiliary classifiers)",
    'torchvision': 'a torchvision-keyed ResNet state dict',
}


def export_backbone(ckpt_path: str,
                    out_path: str,
                    prefix: str = 'backbone.',
                    trust: Optional[bool] = None) -> dict:
    """Write the backbone of a classification checkpoint to a new file.

    The output is ``{'state_dict': {...}, 'meta': {...}}``: the backbone
    tensors (prefix removed, a classifier ``fc.*`` inside the backbone
    dropped) and provenance (source path and format, classifier and backbone
    config when the checkpoint saved its config, whether EMA weights were
    taken). With mmengine's ``EMAHook`` the checkpoint's ``state_dict``
    already holds the EMA weights (the raw ones are in ``ema_state_dict``),
    so the export takes ``state_dict`` in both cases and records ``ema``.

    Nothing is written unless the backbone passes the checks: against the
    backbone built from the checkpoint's saved config (``meta.cfg``) when
    that works, otherwise for a complete ResNet (stem and the blocks of
    layer1-4); every floating-point tensor finite.

    Args:
        ckpt_path (str): Classification checkpoint (see the module doc).
        out_path (str): Where to write the backbone checkpoint; parent
            directories are created. It must differ from ``ckpt_path``.
        prefix (str): Name of the backbone module in the classifier.
            Defaults to 'backbone.'.
        trust (bool, optional): Unpickle the input fully (see
            :func:`.safe_load.trust_requested`). Defaults to None.

    Returns:
        dict: ``kept`` (number of tensors written), ``dropped`` (number of
        tensors left out), ``dropped_groups`` (OrderedDict ``{module:
        tensor count}``; the backbone's own classifier appears as
        ``'<prefix>fc'``), ``format`` (a key of :data:`FORMATS`), ``ema``
        (bool), ``check`` (how the backbone was verified), ``out_path`` and
        ``meta`` (the metadata written).

    Raises:
        FileNotFoundError: ``ckpt_path`` does not exist.
        CheckpointFormatError: The file is corrupt or unsafe to unpickle,
            is not a classification checkpoint (e.g. an already exported
            backbone or a detector), its backbone is incomplete or holds
            NaN/Inf. The message says which and what to do.
    """
    prefix = module_prefix(prefix)
    if osp.abspath(out_path) == osp.abspath(ckpt_path):
        raise CheckpointFormatError(
            f'the output path {out_path!r} is the input checkpoint; choose '
            'another output path (e.g. backbone.pth next to it).')
    checkpoint = load_checkpoint_file(ckpt_path, trust=trust)
    state_dict, where = state_dict_of(checkpoint, ckpt_path)
    state_dict = strip_wrapper_prefix(state_dict)
    meta = checkpoint.get('meta')
    meta = meta if isinstance(meta, dict) else {}
    fmt = source_format(state_dict, meta, where, ckpt_path, prefix)

    if fmt == 'torchvision':
        backbone, others, fc_group = OrderedDict(state_dict), [], 'fc'
    else:
        backbone, others = split_prefix(state_dict, prefix)
        fc_group = prefix + 'fc'
    cfg, note = saved_config(meta)
    shapes = backbone_cfg = None
    if cfg is not None:
        shapes, backbone_cfg, note = expected_backbone(cfg)
    dropped_groups = top_level_groups(others)
    if not wants_classifier(shapes):
        backbone, classifier = split_classifier(backbone)
        if classifier:
            dropped_groups[fc_group] = len(classifier)
            others += classifier
    check_finite(backbone, ckpt_path)
    if shapes is not None:
        check_against_config(backbone, shapes, ckpt_path)
        check = (f'matches the backbone of meta.cfg '
                 f'({backbone_cfg.get("type")})')
    else:
        check_resnet_layout(backbone, ckpt_path)
        check = f'complete ResNet stages (no config check: {note})'

    out_meta = dict(
        exported_by='mixskd_mm.checkpoint.export_backbone',
        source=osp.abspath(ckpt_path),
        source_format=fmt,
        prefix=prefix,
        ema='ema_state_dict' in checkpoint,
        classifier=(cfg.get('model') or {}).get('type') if cfg else None,
        # Plain data: the file must load with torch.load(weights_only=True).
        backbone=to_plain(backbone_cfg),
        epoch=to_plain(meta.get('epoch', checkpoint.get('epoch'))),
        iter=meta.get('iter'),
        check=check)
    atomic_torch_save({'state_dict': backbone, 'meta': out_meta}, out_path)
    return dict(
        kept=len(backbone),
        dropped=len(others),
        dropped_groups=dropped_groups,
        format=fmt,
        ema=out_meta['ema'],
        check=check,
        out_path=out_path,
        meta=out_meta)
