"""mmseg's IoU metric with the per-class IoU in the returned metrics.

mmseg's ``IoUMetric`` prints the IoU of every class as a table in the log
but returns only the means, so the per-class values never reach
``scalars.json``, a visualizer or a script. ``ClasswiseIoUMetric`` returns
them too, as ``IoU.<class name>`` (percent, like ``mIoU``); everything else
is ``IoUMetric``'s.

Use it with ``custom_imports = dict(imports=['mixskd_mm',
'mixskd_mm.evaluation.classwise_iou'])`` and
``val_evaluator = dict(type='ClasswiseIoUMetric', iou_metrics=['mIoU'])``.
"""
from typing import Dict, List

import numpy as np
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

__all__ = ['ClasswiseIoUMetric', 'per_class_iou']


def per_class_iou(results: List[tuple]) -> np.ndarray:
    """IoU (%) of each class from mmseg's per-image area tuples.

    Args:
        results (list[tuple]): ``(intersect, union, pred, label)`` areas of
            each image, each a tensor of shape (num_classes, ).

    Returns:
        np.ndarray: Shape (num_classes, ); ``nan`` for a class that is in no
        prediction and no label (mmseg's convention).
    """
    intersect = sum(r[0] for r in results)
    union = sum(r[1] for r in results)
    intersect = np.asarray(intersect, dtype=np.float64)
    union = np.asarray(union, dtype=np.float64)
    with np.errstate(divide='ignore', invalid='ignore'):
        return intersect / union * 100.0


@METRICS.register_module()
class ClasswiseIoUMetric(IoUMetric):
    """``IoUMetric`` that also returns ``IoU.<class>`` for every class."""

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        for name, iou in zip(self.dataset_meta['classes'],
                             per_class_iou(results)):
            metrics[f'IoU.{name}'] = round(float(iou), 2)
        return metrics
