"""What every distillation classifier of this package shares."""
from typing import Dict, List, Optional, Set, Tuple

import torch
from mmengine.logging import print_log
from mmpretrain.models import ImageClassifier
from mmpretrain.structures import DataSample
from torch import Tensor

from ...utils.validate import check_number
from ..data_preprocessors import MixSKDDataPreprocessor
from ..losses.functional import check_head_loss
from ..utils.mixing import MixBatch

__all__ = ['DistillClassifier']

#: Why the KD temperature and the loss weights have their ranges.
_TEMPERATURE_RANGE = ('the KD temperature T divides the logits (T = 0 gives '
                      'NaN losses, T < 0 inverts the soft targets)')
_WEIGHT_RANGE = ('0 turns the term off; a negative weight maximises the '
                 'loss')


class DistillClassifier(ImageClassifier):
    """An ``ImageClassifier`` that trains with extra parts and losses.

    Subclasses implement :meth:`loss`. Prediction, ``extract_feat`` and the
    ``'tensor'`` mode are the parent's: only ``backbone``, ``neck`` and
    ``head`` are used, so a trained model predicts exactly what a plain
    ``ImageClassifier`` with the same weights predicts, and its
    ``backbone.*``, ``neck.*`` and ``head.*`` weights load into one with
    ``strict=True``.

    Hyper-parameters are checked once, when the model is built: every
    loss weight (a known name, finite, >= 0), ``self.temperature``
    (finite, > 0; assigning it checks it) and the head's ``loss``: every
    supervised term goes through the ``loss_module`` of the head whose
    logits it reads (branch, teacher and peer heads are copies of the head
    config), so the loss must be one these terms can honour
    (:func:`check_head_loss`). The loss dict has one ``loss_<name>`` entry
    per weight ``<name>``, computed by the function of the same name:
    ``loss_ce`` is always the CE on the originals, ``loss_mix_ce`` the
    mixed-label CE on a mixed batch (one exception: FRSKD with
    ``train_on='mixed'`` reports ``loss_mix_ce`` and
    ``loss_teacher_mix_ce`` under its weights ``ce`` and ``teacher_ce``).
    Parts of the model that only zero-weighted terms would train are
    frozen by :meth:`freeze_unweighted_parts`.

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
    _temperature: Optional[float] = None
    #: Module paths frozen by :meth:`freeze_unweighted_parts`.
    frozen_parts: Tuple[str, ...] = ()

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
        if not hasattr(self.head, 'loss_module'):
            raise TypeError(
                f'{type(self).__name__} computes its supervised terms with '
                "the head's loss module: use a ClsHead-like head with "
                f'`loss`, got {type(self.head).__name__}')
        check_head_loss(self.head.loss_module, type(self).__name__)
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
        if given is not None and not isinstance(given, dict):
            raise TypeError('model.loss_weights must be a dict of term name '
                            f'-> weight, got {type(given).__name__}')
        unknown = set(given or {}) - set(weights)
        if unknown:
            raise KeyError(
                f'Unknown loss weight(s) {sorted(unknown)} for '
                f'{type(self).__name__}; valid names: {sorted(weights)}')
        weights.update({
            k: check_number(v, f'model.loss_weights.{k}', 0,
                            why=_WEIGHT_RANGE)
            for k, v in (given or {}).items()
        })
        return weights

    @property
    def temperature(self) -> Optional[float]:
        """The KD temperature T (None for methods without one)."""
        return self._temperature

    @temperature.setter
    def temperature(self, value) -> None:
        self._temperature = check_number(
            value, 'model.temperature', 0, low_open=True,
            why=_TEMPERATURE_RANGE)

    def parts_trained_by(self) -> Dict[str, Set[str]]:
        """Training-only parts and the loss terms whose gradients train them.

        Returns:
            dict: Module path (for ``get_submodule``) -> names of the loss
            weights of every term that reaches the part's parameters.
            Subclasses with training-only parts override it; the deployable
            ``backbone``, ``neck`` and ``head`` are never listed.
        """
        return {}

    def freeze_unweighted_parts(self) -> Tuple[str, ...]:
        """Freeze the parts that only zero-weighted loss terms would train.

        A zero weight still back-propagates zero gradients, on which
        weight decay and momentum would shrink the part towards 0 (a
        self-teacher to ~1e-20 of its start over a CIFAR run). The released
        CIFAR MixSKD script instead leaves such a part at its random
        initialisation: its parameters get no gradient at all. Here they
        get ``requires_grad=False``, so the optimizer never updates them
        and DDP does not wait for their gradients. Subclasses call it at
        the end of ``__init__``, before any wrapper or optimizer is built.

        Returns:
            tuple[str]: The frozen module paths, also in ``frozen_parts``.
        """
        frozen = []
        for path, terms in self.parts_trained_by().items():
            if path.split('.')[0] in ('backbone', 'neck', 'head'):
                raise ValueError(
                    f'{type(self).__name__}.parts_trained_by lists the '
                    f'deployable part {path!r}, which is never frozen')
            part = self.get_submodule(path)
            has_params = any(True for _ in part.parameters())
            if terms and has_params and all(
                    self.loss_weights[t] == 0 for t in terms):
                part.requires_grad_(False)
                frozen.append(path)
        self.frozen_parts = tuple(frozen)
        if frozen:
            print_log(
                f'{type(self).__name__}: froze {", ".join(frozen)} at '
                'their initialisation (every loss term that trains them '
                'has weight 0)', logger='current')
        return self.frozen_parts

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
