"""What every distillation classifier of this package shares."""
from typing import Dict, List, Optional

import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.structures import DataSample
from torch import Tensor

from ..data_preprocessors import MixSKDDataPreprocessor
from ..utils.mixing import MixBatch

__all__ = ['DistillClassifier']

# The parts of a classifier that a plain mmpretrain ImageClassifier has: the
# deployable model. Everything else is training-only and dropped on export.
DEPLOYABLE_PREFIXES = ('backbone.', 'neck.', 'head.')


class DistillClassifier(ImageClassifier):
    """An ``ImageClassifier`` that trains with extra parts and losses.

    Subclasses implement :meth:`loss`. Prediction, ``extract_feat`` and the
    ``'tensor'`` mode are the parent's: only ``backbone``, ``neck`` and
    ``head`` are used, so a trained model predicts exactly what a plain
    ``ImageClassifier`` with the same weights predicts, and
    :meth:`deployable_state_dict` loads into one with ``strict=True``.

    Args:
        backbone (dict): The backbone config.
        head (dict): The head config (a ``LinearClsHead``-like dict); method
            parts such as branch heads are built from copies of it.
        neck (dict, optional): Defaults to ``GlobalAveragePooling``.
        loss_weights (dict, optional): Weights of the loss terms, by name;
            missing names keep the defaults of ``DEFAULT_LOSS_WEIGHTS``.
        data_preprocessor (dict, optional): Defaults to a
            ``MixSKDDataPreprocessor`` with ``DEFAULT_MIX`` when
            ``trains_on_mixed``, else a ``ClsDataPreprocessor``; a dict
            without ``type`` is merged into that default.
        init_cfg (dict, optional): Defaults to None.
        trains_on_mixed (bool): Whether :meth:`loss` reads the mixed batch
            of ``MixSKDDataPreprocessor``. A preprocessor that does not mix
            is then refused, and so is a mixing one when False (its draws
            would be ignored). Defaults to True.
        preprocessor_hint (str): Appended to that error: the method's own
            way out (e.g. another option or classifier). Defaults to ''.
    """

    #: Loss term names and their default weights; subclasses override.
    DEFAULT_LOSS_WEIGHTS: Dict[str, float] = {}
    #: ``MixSKDDataPreprocessor`` settings used when the config names none.
    DEFAULT_MIX: Dict[str, object] = dict(mix_mode='mixup')

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 loss_weights: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 trains_on_mixed: bool = True,
                 preprocessor_hint: str = ''):
        if not isinstance(head, dict):
            raise TypeError(
                f'{type(self).__name__} builds extra heads from the head '
                f'config: pass `head` as a dict, got {type(head).__name__}')
        if data_preprocessor is None or (isinstance(data_preprocessor, dict)
                                         and 'type' not in data_preprocessor):
            default = (
                dict(type='MixSKDDataPreprocessor', **self.DEFAULT_MIX)
                if trains_on_mixed else dict(type='ClsDataPreprocessor'))
            data_preprocessor = dict(default, **(data_preprocessor or {}))
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.head_cfg = dict(head)
        self.loss_weights = self._merge_loss_weights(loss_weights)
        self._check_preprocessor(trains_on_mixed, preprocessor_hint)

    def _check_preprocessor(self, trains_on_mixed: bool, hint: str) -> None:
        name = type(self).__name__
        got = type(self.data_preprocessor).__name__
        mixes = isinstance(self.data_preprocessor, MixSKDDataPreprocessor)
        if trains_on_mixed and not mixes:
            settings = ', '.join(f'{k}={v!r}'
                                 for k, v in self.DEFAULT_MIX.items())
            raise ValueError(
                f'{name} trains on the mixed batch of MixSKDDataPreprocessor'
                f', got {got}: set model.data_preprocessor=dict(type='
                f"'MixSKDDataPreprocessor', {settings}, ...) or leave it out"
                + hint)
        if not trains_on_mixed and mixes:
            raise ValueError(
                f'{name} trains on the original batch here and would ignore '
                'the draws of MixSKDDataPreprocessor: use '
                'ClsDataPreprocessor (or leave model.data_preprocessor out)'
                + hint)

    def _merge_loss_weights(self, given: Optional[dict]) -> Dict[str, float]:
        weights = dict(self.DEFAULT_LOSS_WEIGHTS)
        unknown = set(given or {}) - set(weights)
        if unknown:
            raise KeyError(
                f'Unknown loss weight(s) {sorted(unknown)} for '
                f'{type(self).__name__}; valid names: {sorted(weights)}')
        weights.update({k: float(v) for k, v in (given or {}).items()})
        return weights

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor',
                mix: Optional[MixBatch] = None):
        """Dispatch like ``ImageClassifier``; ``mix`` goes to :meth:`loss`.

        Args:
            inputs (Tensor): Images, shape (N, C, H, W).
            data_samples (list[DataSample], optional): With ``gt_label``.
            mode (str): 'tensor', 'loss' or 'predict'.
            mix (MixBatch, optional): The mixing draw from
                ``MixSKDDataPreprocessor`` (training only).
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples, mix)
        return super().forward(inputs, data_samples, mode)

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        raise NotImplementedError

    def require_mix(self, mix: Optional[MixBatch]) -> MixBatch:
        """The mixing draw, or a clear error when the preprocessor gave none.
        """
        if mix is None:
            raise ValueError(
                f'{type(self).__name__} needs the mixed batch that '
                '`MixSKDDataPreprocessor` adds in training; set '
                "model.data_preprocessor=dict(type='MixSKDDataPreprocessor',"
                ' ...) (a plain ClsDataPreprocessor does not mix).')
        return mix

    @staticmethod
    def gt_labels(data_samples: List[DataSample]) -> Tensor:
        """Hard labels of the batch, a long tensor of shape (N, )."""
        return torch.cat([s.gt_label for s in data_samples])

    def weighted(self, name: str, value: Tensor) -> Tensor:
        """``value`` times the configured weight of the term ``name``."""
        return self.loss_weights[name] * value

    def deployable_state_dict(self) -> Dict[str, Tensor]:
        """The weights a plain ``ImageClassifier`` has, under its keys."""
        return {
            k: v
            for k, v in self.state_dict().items()
            if k.startswith(DEPLOYABLE_PREFIXES)
        }
