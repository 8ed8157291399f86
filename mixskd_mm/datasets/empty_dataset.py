"""Name the annotation file of a dataset that holds no samples.

mmengine's ``BaseDataset.full_init`` serialises the sample list with
``np.concatenate``, so a dataset whose annotation file lists nothing (an
empty ``meta/train.txt``, a COCO json without images, an empty split file)
stops with ``ValueError: need at least one array to concatenate``, naming
neither the dataset nor the file. The ``empty_dataset_error`` patch of
:mod:`mixskd_mm.patches` (applied by ``import mixskd_mm``) wraps
``BaseDataset._serialize_data``, which every mmengine, mmpretrain, mmdet and
mmseg dataset calls from ``full_init`` (``serialize_data=True``, the
default), so that such a dataset raises :class:`EmptyDatasetError` with the
file and the fix instead.
"""
import functools
import os.path as osp
from typing import Any, Callable

from mmengine.dataset import BaseDataset

__all__ = ['EmptyDatasetError', 'guard_empty_datasets', 'describe_empty']


class EmptyDatasetError(ValueError):
    """A dataset loaded no samples from its annotation file."""


def _file_is_blank(path: str) -> bool:
    """Whether ``path`` is a local file holding only whitespace."""
    if not osp.isfile(path):
        return False
    with open(path, 'rb') as f:
        return not f.read(1 << 16).strip()


def describe_empty(dataset: BaseDataset) -> str:
    """The error message for a dataset with no samples.

    Args:
        dataset (BaseDataset): A dataset whose ``data_list`` is empty.

    Returns:
        str: What is empty (the annotation file, or the folder scanned
        without one), the filter that may have removed everything, and the
        fix.
    """
    name = type(dataset).__name__
    ann_file = getattr(dataset, 'ann_file', '') or ''
    prefix = getattr(dataset, 'data_prefix', None)
    if ann_file:
        what = f'its annotation file {ann_file}'
        if _file_is_blank(ann_file):
            what += ' is empty: it lists no images'
        else:
            what += ' yields no samples'
        fix = ('write the samples into it (for CustomDataset one '
               '"relative/path.jpg label" line per image; for COCO its '
               '"images" and "annotations"), or point data_root / ann_file '
               'at the right split in the config')
    else:
        what = f'no annotation file was given and {prefix} holds no samples'
        fix = ('put the images in class sub-folders there, or set ann_file '
               'and data_root in the config')
    filter_cfg = getattr(dataset, 'filter_cfg', None)
    if filter_cfg:
        what += f' (after filter_cfg={dict(filter_cfg)})'
    return (f'{name} has no samples: {what}. Fix: {fix}. '
            f'(data_root={getattr(dataset, "data_root", None)!r}, '
            f'data_prefix={prefix!r})')


def _guarded(serialize: Callable[[BaseDataset], Any]) -> Callable:
    """Wrap ``BaseDataset._serialize_data`` to refuse an empty data list."""

    @functools.wraps(serialize)
    def _serialize_data(self: BaseDataset) -> Any:
        if len(self.data_list) == 0:
            raise EmptyDatasetError(describe_empty(self))
        return serialize(self)

    return _serialize_data


def guard_empty_datasets() -> None:
    """Make an empty dataset raise :class:`EmptyDatasetError` (idempotent).

    Applied by ``import mixskd_mm`` (the ``empty_dataset_error`` patch of
    :mod:`mixskd_mm.patches`, which also undoes it). A dataset built with
    ``serialize_data=False`` is not serialised and so not checked here.
    """
    from ..patches import apply_patch
    apply_patch('empty_dataset_error')
