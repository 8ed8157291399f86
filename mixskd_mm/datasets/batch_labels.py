"""Name a detection or segmentation label the model has no class for.

A box label ``>= bbox_head.num_classes`` or a label-map value outside
``[0, decode_head.num_classes)`` that is not the ignore index ends in
``IndexError: Target 30 is out of bounds`` on the CPU and in a device-side
assert that names nothing on a GPU. Label maps are images, so reading all
of them before training would cost a pass over the data; these checks look
at each batch as the data loader delivers it, on the CPU before the data
preprocessor moves it, and name the sample's file.

Each check is a comparison on tensors already in memory: for a batch of
eight 512 x 512 label maps, a few milliseconds.
"""
from typing import Optional, Sequence

import torch

from .label_range import LabelOutOfRangeError

__all__ = ['check_instance_labels', 'check_seg_labels']


def _where(sample) -> str:
    """The file a data sample came from, for the message."""
    meta = getattr(sample, 'metainfo', {}) or {}
    return str(meta.get('seg_map_path') or meta.get('img_path')
               or 'a sample without a file name')


def _shown(values: torch.Tensor) -> str:
    """Up to five distinct values, sorted, as a list."""
    unique = torch.unique(values).tolist()
    more = f' and {len(unique) - 5} more' if len(unique) > 5 else ''
    return f'{unique[:5]}{more}'


def check_seg_labels(data_samples: Sequence, num_classes: int,
                     ignore_index: Optional[int], split: str) -> None:
    """Raise if a label map holds a value that is no class and not ignored.

    Args:
        data_samples (Sequence[SegDataSample]): One batch as the data loader
            gives it; samples without ``gt_sem_seg`` are not checked.
        num_classes (int): ``decode_head.num_classes``.
        ignore_index (int, optional): ``decode_head.ignore_index`` (255 in
            mmseg), allowed besides the classes.
        split (str): 'train', 'val' or 'test', for the message.

    Raises:
        LabelOutOfRangeError: Names the label map, the values and the
            valid range.
    """
    for sample in data_samples:
        seg = getattr(sample, 'gt_sem_seg', None)
        if seg is None or 'data' not in seg:
            continue
        values = seg.data
        bad = (values < 0) | (values >= num_classes)
        if ignore_index is not None:
            bad &= values != ignore_index
        if not bool(bad.any()):
            continue
        raise LabelOutOfRangeError(
            f'{split} batch: label map {_where(sample)} holds value(s) '
            f'{_shown(values[bad])} (after the pipeline) outside the '
            f"model's classes 0..{num_classes - 1} "
            f'(model.decode_head.num_classes={num_classes}) and not the '
            f'ignore index {ignore_index}. Fix: convert the label maps to '
            'train ids (0..num_classes-1, ignored pixels = the ignore '
            'index), set reduce_zero_label=True for sets whose 0 means '
            '"other" (ADE20K), or set model.decode_head.num_classes (and '
            'auxiliary_head.num_classes) to the number of classes.')


def check_instance_labels(data_samples: Sequence, num_classes: int,
                          split: str) -> None:
    """Raise if a box label is outside the detector's classes.

    Args:
        data_samples (Sequence[DetDataSample]): One batch as the data loader
            gives it; samples without ``gt_instances.labels`` are skipped.
        num_classes (int): The bbox head's ``num_classes`` (the smallest of
            a cascade's heads).
        split (str): 'train', 'val' or 'test', for the message.

    Raises:
        LabelOutOfRangeError: Names the image, the labels and the range.
    """
    for sample in data_samples:
        instances = getattr(sample, 'gt_instances', None)
        labels = getattr(instances, 'labels', None) \
            if instances is not None and 'labels' in instances else None
        if labels is None or labels.numel() == 0:
            continue
        bad = (labels < 0) | (labels >= num_classes)
        if not bool(bad.any()):
            continue
        raise LabelOutOfRangeError(
            f'{split} batch: image {_where(sample)} has box label(s) '
            f"{_shown(labels[bad])} outside the detector's classes "
            f'0..{num_classes - 1} (bbox_head.num_classes={num_classes}); '
            "the dataset's metainfo['classes'] has more classes than the "
            'head. Fix: set the bbox head(s) num_classes to '
            'len(metainfo["classes"]), or train fewer classes.')
