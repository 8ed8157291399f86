"""A ``ClsDataPreprocessor`` for pipelines that give several views."""
from typing import List

import torch
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import MODELS

__all__ = ['MultiViewClsDataPreprocessor']


@MODELS.register_module()
class MultiViewClsDataPreprocessor(ClsDataPreprocessor):
    """Normalise each view of a ``MultiView`` pipeline; stack them.

    With mmpretrain's ``MultiView`` transform before ``PackInputs`` every
    sample's ``inputs`` is a list of V views. ``default_collate`` turns the
    batch into V tensors (N, C, H, W), ``pseudo_collate`` into V sequences
    of N images; both become one tensor (V * N, C, H, W), view-major (rows
    ``v * N + i`` hold view ``v`` of sample ``i``), each view normalised as
    ``ClsDataPreprocessor`` does. ``data_samples`` (N of them) are left as
    they are. A single-view batch (the evaluation pipelines) is processed
    exactly as by ``ClsDataPreprocessor``.

    Args:
        **kwargs: ``ClsDataPreprocessor`` arguments. ``batch_augments`` is
            refused: a batch mix would blend unrelated views.
    """

    def __init__(self, **kwargs):
        if kwargs.get('batch_augments'):
            raise ValueError(
                'MultiViewClsDataPreprocessor does not mix batches: remove '
                '`batch_augments` (or `model.train_cfg.augments`)')
        kwargs.pop('batch_augments', None)
        super().__init__(**kwargs)

    @staticmethod
    def views(inputs) -> List:
        """The views of a batch, each as one collated input; or None.

        Returns:
            list | None: V tensors (N, C, H, W) or V lists of N images;
            None for a single-view batch.
        """
        if isinstance(inputs, torch.Tensor) or not inputs:
            return None
        first = inputs[0]
        if isinstance(first, (list, tuple)) or (
                isinstance(first, torch.Tensor) and first.dim() == 4):
            return [
                v if isinstance(v, torch.Tensor) else list(v) for v in inputs
            ]
        return None  # one view: N images (C, H, W)

    def forward(self, data: dict, training: bool = False) -> dict:
        views = self.views(data['inputs'])
        if views is None:
            return super().forward(data, training)
        outs = [
            super(MultiViewClsDataPreprocessor, self).forward(
                dict(data, inputs=view), training) for view in views
        ]
        return dict(
            inputs=torch.cat([o['inputs'] for o in outs]),
            data_samples=outs[0]['data_samples'])
