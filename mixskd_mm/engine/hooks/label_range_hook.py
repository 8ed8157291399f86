"""Check the datasets' class labels against the model before training."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner import BaseLoop

from ...datasets.label_range import check_class_labels

__all__ = ['LabelRangeCheckHook']


@HOOKS.register_module()
class LabelRangeCheckHook(Hook):
    """Refuse labels outside ``[0, model.head.num_classes)`` before step 1.

    The train and validation datasets are built by then (the Runner builds
    the loops before ``before_train``); each label is read once from the
    dataset's annotations, no image is loaded. Models without a
    ``head.num_classes`` (detectors, segmentors) are not checked here.
    ``tools/train.py`` adds this hook to every run (``GUARD_HOOKS``).
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        num_classes = getattr(getattr(model, 'head', None), 'num_classes',
                              None)
        if not isinstance(num_classes, int):
            return
        loops = [('train', runner.train_loop),
                 ('val', getattr(runner, '_val_loop', None))]
        for split, loop in loops:
            if isinstance(loop, BaseLoop):
                check_class_labels(loop.dataloader.dataset, num_classes,
                                   split)
