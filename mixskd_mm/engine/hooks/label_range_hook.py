"""Check the data's labels against the model's classes before they reach a
loss: at the first step for classification labels and COCO categories, at
every batch for boxes and label maps."""
from typing import List, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS
from mmengine.runner import BaseLoop
from torch import nn

from ...datasets.batch_labels import check_instance_labels, check_seg_labels
from ...datasets.coco_categories import check_coco_categories
from ...datasets.label_range import check_class_labels
from ...utils.model import unwrap_model

__all__ = ['LabelRangeCheckHook']


def _heads(module: Optional[nn.Module]) -> List[nn.Module]:
    """A head, or each head of a ``ModuleList`` (cascades)."""
    if module is None:
        return []
    return list(module) if isinstance(module, nn.ModuleList) else [module]


def _num_classes(heads: List[nn.Module]) -> Optional[int]:
    """The smallest ``num_classes`` of ``heads`` (None when none has one)."""
    found = [h.num_classes for h in heads
             if isinstance(getattr(h, 'num_classes', None), int)]
    return min(found) if found else None


def _leaf_datasets(dataset) -> list:
    """The datasets inside mmengine's wrappers (Repeat, ClassBalanced,
    Concat), or ``dataset`` itself."""
    if hasattr(dataset, 'datasets'):
        return [d for inner in dataset.datasets for d in _leaf_datasets(inner)]
    if hasattr(dataset, 'dataset') and not hasattr(dataset, 'ann_file'):
        return _leaf_datasets(dataset.dataset)
    return [dataset]


@HOOKS.register_module()
class LabelRangeCheckHook(Hook):
    """Refuse labels the model has no class for, naming file and range.

    * Classifiers (``head.num_classes``): every label of the train and
      validation datasets, read once from the annotations before step 1.
    * Detectors (``roi_head.bbox_head`` or ``bbox_head``): COCO annotation
      files before step 1 (:mod:`mixskd_mm.datasets.coco_categories`), and
      the box labels of every batch.
    * Segmentors (``decode_head``): the label maps of every batch against
      ``num_classes`` and ``ignore_index``.

    The datasets are built by ``before_train`` (the Runner builds the loops
    first), and batches are checked on the CPU before the data preprocessor
    moves them. ``tools/train.py`` adds this hook to every run
    (``GUARD_HOOKS``), ``tools/test.py`` to every test (labels of the
    test set, which the metrics would otherwise skip or miscount).
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._cls_classes = self._box_classes = self._seg_classes = None
        self._ignore_index = None

    def before_run(self, runner) -> None:
        model = unwrap_model(runner.model)
        roi_head = getattr(model, 'roi_head', None)
        self._cls_classes = _num_classes(_heads(getattr(model, 'head', None)))
        self._box_classes = _num_classes(
            _heads(getattr(roi_head, 'bbox_head', None))
            + _heads(getattr(model, 'bbox_head', None)))
        decode = _heads(getattr(model, 'decode_head', None))
        self._seg_classes = _num_classes(decode)
        self._ignore_index = getattr(decode[-1], 'ignore_index', None) \
            if decode else None

    def before_train(self, runner) -> None:
        self._check_datasets([('train', runner.train_loop),
                              ('val', getattr(runner, '_val_loop', None))])

    def before_test(self, runner) -> None:
        self._check_datasets([('test', getattr(runner, '_test_loop', None))])

    def _check_datasets(self, loops: List[Tuple[str, object]]) -> None:
        """Dataset-level checks of each built loop's dataset."""
        for split, loop in loops:
            if not isinstance(loop, BaseLoop):
                continue
            dataset = loop.dataloader.dataset
            if self._cls_classes is not None:
                check_class_labels(dataset, self._cls_classes, split)
            if self._box_classes is None:
                continue
            for leaf in _leaf_datasets(dataset):
                dropped = check_coco_categories(leaf, split)
                if dropped:
                    print_log(
                        f'{split} dataset: {sum(dropped.values())} '
                        f'annotations of {len(dropped)} categories of '
                        f'{leaf.ann_file} that metainfo["classes"] does not '
                        f'name are skipped ({dict(dropped.most_common(5))}'
                        f'{" ..." if len(dropped) > 5 else ""}).',
                        logger='current')

    def _check_batch(self, data_batch, split: str) -> None:
        samples = data_batch.get('data_samples') \
            if isinstance(data_batch, dict) else None
        if not samples:
            return
        if self._box_classes is not None:
            check_instance_labels(samples, self._box_classes, split)
        if self._seg_classes is not None:
            check_seg_labels(samples, self._seg_classes, self._ignore_index,
                             split)

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self._check_batch(data_batch, 'train')

    def before_val_iter(self, runner, batch_idx: int,
                        data_batch=None) -> None:
        self._check_batch(data_batch, 'val')

    def before_test_iter(self, runner, batch_idx: int,
                         data_batch=None) -> None:
        self._check_batch(data_batch, 'test')
