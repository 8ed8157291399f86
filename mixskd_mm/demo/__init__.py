"""Demo utilities: deterministic generated data of one visual world, and
the demo pipeline (:mod:`.pipeline`) that pretrains, transfers and reports.

:mod:`.world` and :mod:`.scenes` make the images, :mod:`.formats` writes
them as ImageNet-style, COCO and VOC sets, :mod:`.metainfo` names their
classes and gives dataset configs, :mod:`.data` holds the size presets.
"""
from .data import COUNT_KEYS, SIZES, resolve_counts, write_demo_data
from .formats import (write_classification_set, write_coco_detection_set,
                      write_voc_segmentation_set)
from .metainfo import (class_names, classification_metainfo, coco_metainfo,
                       dataset_cfg, voc_metainfo, voc_palette)
from .world import (CLS_CLASSES, DET_CLASSES, IGNORE_INDEX, SEG_CLASSES,
                    SHAPES, TEXTURES)

__all__ = [
    'CLS_CLASSES', 'COUNT_KEYS', 'DET_CLASSES', 'IGNORE_INDEX', 'SEG_CLASSES',
    'SHAPES', 'SIZES', 'TEXTURES', 'class_names', 'classification_metainfo',
    'coco_metainfo', 'dataset_cfg', 'resolve_counts', 'voc_metainfo',
    'voc_palette', 'write_classification_set', 'write_coco_detection_set',
    'write_demo_data', 'write_voc_segmentation_set'
]
