"""Demo utilities: deterministic generated data of one visual world.

See :mod:`mixskd_mm.demo.data` for the world, the on-disk formats and how
configs should reference the written sets.
"""
from .data import (CLS_CLASSES, COUNT_KEYS, DET_CLASSES, IGNORE_INDEX,
                   SEG_CLASSES, SHAPES, SIZES, TEXTURES, class_names,
                   classification_metainfo, coco_metainfo, dataset_cfg,
                   resolve_counts, voc_metainfo, voc_palette,
                   write_classification_set, write_coco_detection_set,
                   write_demo_data, write_voc_segmentation_set)

__all__ = [
    'CLS_CLASSES', 'COUNT_KEYS', 'DET_CLASSES', 'IGNORE_INDEX', 'SEG_CLASSES',
    'SHAPES', 'SIZES', 'TEXTURES', 'class_names', 'classification_metainfo',
    'coco_metainfo', 'dataset_cfg', 'resolve_counts', 'voc_metainfo',
    'voc_palette', 'write_classification_set', 'write_coco_detection_set',
    'write_demo_data', 'write_voc_segmentation_set'
]
