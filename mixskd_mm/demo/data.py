"""Deterministic demo data: one visual world in three real on-disk formats.

:mod:`.world` and :mod:`.scenes` make the images (shapes painted with
textures), :mod:`.formats` writes the ImageNet-style classification, COCO
detection and Pascal VOC segmentation sets, :mod:`.metainfo` gives their
class names and dataset configs. This module holds the size presets and
:func:`write_demo_data`, which writes all three sets.
"""
import os
import os.path as osp
from typing import Dict, Optional

from .formats import (OUTPUTS, exists_error, existing_outputs,
                      write_classification_set, write_coco_detection_set,
                      write_voc_segmentation_set)
from .world import check_choice, check_int

__all__ = [
    'COUNT_KEYS', 'DATA_VERSION', 'SIZES', 'resolve_counts', 'write_demo_data',
    'write_classification_set', 'write_coco_detection_set',
    'write_voc_segmentation_set'
]

#: Names the demo world and presets; bumped whenever they change the images,
#: so that ``tools/demo.py`` rewrites data an older version wrote.
#: 'world-2': upright objects (``scenes.MAX_TILT``), 320 + 50 per class.
DATA_VERSION = 'world-2'
COUNT_KEYS = ('cls_train', 'cls_val', 'det_train', 'det_val', 'seg_train',
              'seg_val')
#: Image counts of the size presets; ``cls_*`` are per class (20 classes).
SIZES = {
    'tiny': dict(zip(COUNT_KEYS, (2, 1, 4, 2, 4, 2))),
    'small': dict(zip(COUNT_KEYS, (8, 4, 32, 8, 32, 8))),
    'default': dict(zip(COUNT_KEYS, (320, 50, 400, 100, 400, 100))),
}


def resolve_counts(size: str = 'default',
                   counts: Optional[Dict[str, int]] = None) -> dict:
    """Image counts of a size preset, with optional overrides.

    Args:
        size (str): ``'tiny'``, ``'small'`` or ``'default'``.
        counts (dict, optional): Overrides for keys of ``SIZES[size]``
            (``cls_train``, ``cls_val`` (per class), ``det_train``,
            ``det_val``, ``seg_train``, ``seg_val``). Defaults to None.

    Returns:
        dict: The six counts.
    """
    check_choice('size', size, tuple(SIZES))
    resolved = dict(SIZES[size])
    for key, value in (counts or {}).items():
        check_choice('counts key', key, tuple(resolved))
        if value is not None:
            check_int(key, value, 1)
            resolved[key] = value
    return resolved


def write_demo_data(root,
                    size: str = 'default',
                    seed: int = 0,
                    overwrite: bool = False,
                    counts: Optional[Dict[str, int]] = None) -> dict:
    """Write all three sets under ``root/cls``, ``root/det``, ``root/seg``.

    Sizes (``SIZES``): ``'tiny'`` (unit tests: 40 + 20 classification, 4 + 2
    detection and segmentation images), ``'small'`` (a quick end-to-end
    run: 160 + 80, 32 + 8, 32 + 8) and ``'default'`` (the CPU demo: 6400 +
    1000, 400 + 100, 400 + 100).

    Args:
        root (str | PathLike): Output folder.
        size (str): Preset name. Defaults to ``'default'``.
        seed (int): Non-negative seed. Defaults to 0.
        overwrite (bool): Passed to each writer. Defaults to False.
        counts (dict, optional): Overrides, see :func:`resolve_counts`.

    Returns:
        dict: ``root``, ``size``, ``seed``, ``counts`` and the writers'
        results under ``cls``, ``det`` and ``seg``.
    """
    resolved = resolve_counts(size, counts)
    check_int('seed', seed, 0)
    root = os.fspath(root)
    for task, names in OUTPUTS.items():  # fail before writing anything
        existing = existing_outputs(osp.join(root, task), names)
        if existing and not overwrite:
            raise exists_error(existing[0])
    cls = write_classification_set(
        osp.join(root, 'cls'),
        resolved['cls_train'],
        resolved['cls_val'],
        seed=seed,
        overwrite=overwrite)
    det = write_coco_detection_set(
        osp.join(root, 'det'),
        resolved['det_train'],
        resolved['det_val'],
        seed=seed,
        overwrite=overwrite)
    seg = write_voc_segmentation_set(
        osp.join(root, 'seg'),
        resolved['seg_train'],
        resolved['seg_val'],
        seed=seed,
        overwrite=overwrite)
    return dict(
        root=root,
        size=size,
        seed=seed,
        counts=resolved,
        cls=cls,
        det=det,
        seg=seg)
