"""Name a classification label that the model has no class for.

A line ``train/x.png 99`` in the ``meta/train.txt`` of a 20-class set ends,
without this check, in ``IndexError: Target 99 is out of bounds.`` on the
CPU and in a device-side assert that names nothing on a GPU, at the first
batch that holds it. :func:`check_class_labels` looks at every label of a
built dataset once, before training, and names the annotation file, the
line and the valid range.
"""
import os.path as osp
from typing import Optional

import numpy as np

__all__ = ['LabelOutOfRangeError', 'check_class_labels']


class LabelOutOfRangeError(ValueError):
    """A dataset holds a label outside ``[0, num_classes)``."""


def _ann_line(ann_file: str, index: int, label: int) -> Optional[str]:
    """``'FILE:LINE: TEXT'`` of sample ``index`` (whose label is ``label``).

    mmpretrain's ``CustomDataset`` makes sample ``i`` of the ``i``-th
    non-empty line of the file; that line is checked to end in the label,
    else the first line that does is named.
    """
    if not ann_file or not osp.isfile(ann_file):
        return None
    with open(ann_file, errors='replace') as f:
        lines = [(n, line.strip()) for n, line in enumerate(f, 1)
                 if line.strip()]
    ends_in = [(n, text) for n, text in lines
               if text.rsplit(maxsplit=1)[-1] == str(label)]
    if index < len(lines) and lines[index] in ends_in:
        n, text = lines[index]
    elif ends_in:
        n, text = ends_in[0]
    else:
        return None
    return f'{ann_file}:{n}: {text!r}'


def check_class_labels(dataset, num_classes: int, split: str) -> None:
    """Raise :class:`LabelOutOfRangeError` if a label is outside the classes.

    Args:
        dataset: A built mmpretrain dataset (``get_gt_labels()``). Datasets
            without single-label ``gt_label`` values (multi-label, or none)
            are not checked.
        num_classes (int): The model head's number of classes.
        split (str): 'train', 'val' or 'test', for the message.
    """
    get_labels = getattr(dataset, 'get_gt_labels', None)
    if get_labels is None or len(dataset) == 0:
        return
    try:
        labels = np.asarray(get_labels(), dtype=np.int64).reshape(-1)
    except (TypeError, ValueError, KeyError):
        return  # multi-label or unlabelled samples: nothing to compare
    if len(labels) != len(dataset):
        return
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if not len(bad):
        return
    index, label = int(bad[0]), int(labels[bad[0]])
    ann_file = getattr(dataset, 'ann_file', '')
    where = _ann_line(ann_file, index, label) or \
        f'sample {index} of {ann_file or type(dataset).__name__}'
    raise LabelOutOfRangeError(
        f'{split} dataset: label {label} at {where} is outside the '
        f"model's classes 0..{num_classes - 1} (model.head.num_classes="
        f'{num_classes}); {len(bad)} of {len(labels)} samples have a label '
        'out of range. Fix: correct the labels in that file, or set '
        'model.head.num_classes (and model.data_preprocessor.num_classes) '
        'to the number of classes of the data.')
