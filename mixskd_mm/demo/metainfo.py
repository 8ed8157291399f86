"""Class names, palettes and dataset configs of the written demo sets.

Segmentation class names and mmseg
----------------------------------
mmseg's ``PascalVOCDataset`` fixes ``METAINFO`` to VOC's 21 names, and
``BaseSegDataset.get_label_map`` raises ``ValueError`` for
``metainfo=dict(classes=...)`` with a name outside them, so shape names
cannot be given to it. The set therefore keeps the VOC on-disk layout and
is meant to be read with mmseg's ``BaseSegDataset`` (the unchanged parent
of ``PascalVOCDataset``, with the same ``.jpg``/``.png`` suffixes and split
file reading) and ``metainfo=voc_metainfo()``: the dataset, ``IoUMetric``
and the visualiser then report ``('background', 'circle', ...)`` and
``num_classes`` is ``len(SEG_CLASSES)`` = 6. The files also load with the
real ``PascalVOCDataset`` and no metainfo (labels 0-5 are VOC ids 0-5,
``IoUMetric`` averages with ``nanmean`` so ids that never occur do not
count), but it reports VOC names and needs ``num_classes=21``.

Configs
-------
``dataset_cfg(task, root, split, pipeline)`` returns these dicts (``root``
is the writer's root, e.g. ``data/demo/cls``; ``metainfo`` literals are
``classification_metainfo()``, ``coco_metainfo()`` and ``voc_metainfo()``;
val splits add ``test_mode=True``)::

    dict(type='CustomDataset', data_root='data/demo/cls',     # mmpretrain
         ann_file='meta/train.txt', data_prefix='train',
         metainfo=dict(classes=CLS_CLASSES))
    dict(type='CocoDataset', data_root='data/demo/det',       # mmdet
         ann_file='annotations/instances_train.json',
         data_prefix=dict(img='train/'), metainfo=coco_metainfo())
    dict(type='BaseSegDataset', data_root='data/demo/seg/VOC2012',  # mmseg
         ann_file='ImageSets/Segmentation/train.txt',
         data_prefix=dict(img_path='JPEGImages',
                          seg_map_path='SegmentationClass'),
         img_suffix='.jpg', seg_map_suffix='.png', metainfo=voc_metainfo())

Evaluators: mmpretrain ``Accuracy``; mmdet ``CocoMetric(ann_file=
'data/demo/det/annotations/instances_val.json', metric='bbox')``; mmseg
``IoUMetric(iou_metrics=['mIoU'])``. Heads: 20, 5 and 6 classes.
"""
import os.path as osp
from typing import List, Sequence, Tuple

from .world import CLS_CLASSES, DET_CLASSES, SEG_CLASSES, check_int

#: The splits every writer produces.
SPLITS = ('train', 'val')


def class_names(task: str) -> Tuple[str, ...]:
    """Class names of one task, in label order.

    Args:
        task (str): ``'cls'`` (``'<shape>_<texture>'``, 20 names), ``'det'``
            (shape names) or ``'seg'`` (``'background'`` + shape names).

    Returns:
        tuple[str]: The names.
    """
    names = dict(cls=CLS_CLASSES, det=DET_CLASSES, seg=SEG_CLASSES)
    if task not in names:
        raise ValueError(f'task must be one of {sorted(names)}, got {task!r}')
    return names[task]


def voc_palette(num_colors: int = 256) -> List[List[int]]:
    """The Pascal VOC colour map (label ``i`` -> RGB).

    Args:
        num_colors (int): Number of entries, 1 to 256. Defaults to 256.

    Returns:
        list[list[int]]: ``num_colors`` RGB triplets; entry 0 is black,
        1 is ``[128, 0, 0]`` and 255 is ``[224, 224, 192]``.
    """
    check_int('num_colors', num_colors, 1, 256)
    palette = []
    for index in range(num_colors):
        rgb = [0, 0, 0]
        code = index
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((code >> channel) & 1) << (7 - bit)
            code >>= 3
        palette.append(rgb)
    return palette


def classification_metainfo() -> dict:
    """``metainfo`` for mmpretrain datasets of the classification set.

    Returns:
        dict: ``dict(classes=CLS_CLASSES)``.
    """
    return dict(classes=CLS_CLASSES)


def coco_metainfo() -> dict:
    """``metainfo`` for mmdet's ``CocoDataset`` on the detection set.

    Returns:
        dict: ``dict(classes=DET_CLASSES, palette=...)``; shape ``i`` has the
        colour of label ``i + 1`` in ``voc_metainfo()``.
    """
    palette = [tuple(c) for c in voc_palette(len(SEG_CLASSES))[1:]]
    return dict(classes=DET_CLASSES, palette=palette)


def voc_metainfo() -> dict:
    """``metainfo`` for mmseg's ``BaseSegDataset`` on the segmentation set.

    See the module docstring for why ``PascalVOCDataset`` cannot take it.

    Returns:
        dict: ``dict(classes=SEG_CLASSES, palette=voc_palette(6))``.
    """
    return dict(classes=SEG_CLASSES, palette=voc_palette(len(SEG_CLASSES)))


def dataset_cfg(task: str,
                data_root: str,
                split: str = 'train',
                pipeline: Sequence = ()) -> dict:
    """Dataset config dict of one split of a written set.

    Types are bare names, resolved in the config's default scope
    (mmpretrain, mmdet and mmseg respectively).

    Args:
        task (str): ``'cls'``, ``'det'`` or ``'seg'``.
        data_root (str): The ``root`` given to the matching writer (for
            ``'seg'`` the ``VOC2012`` folder inside it is used).
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
            ``'val'`` sets ``test_mode=True``.
        pipeline (Sequence): Transforms. Defaults to ``()``.

    Returns:
        dict: ``CustomDataset`` / ``CocoDataset`` / ``BaseSegDataset``
        config.
    """
    class_names(task)
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    data_root = str(data_root)
    common = dict(pipeline=list(pipeline), test_mode=split != 'train')
    if task == 'cls':
        return dict(
            type='CustomDataset',
            data_root=data_root,
            ann_file=f'meta/{split}.txt',
            data_prefix=split,
            metainfo=classification_metainfo(),
            **common)
    if task == 'det':
        return dict(
            type='CocoDataset',
            data_root=data_root,
            ann_file=f'annotations/instances_{split}.json',
            data_prefix=dict(img=f'{split}/'),
            metainfo=coco_metainfo(),
            **common)
    return dict(
        type='BaseSegDataset',
        data_root=osp.join(data_root, 'VOC2012'),
        ann_file=f'ImageSets/Segmentation/{split}.txt',
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        metainfo=voc_metainfo(),
        **common)
