"""BAKE: self-distillation with batch knowledge ensembling.

Ge et al., "Self-distillation with Batch Knowledge Ensembling Improves
ImageNet Classification", https://arxiv.org/abs/2104.13298 (``yxgeee/BAKE``),
as released in Self-KD-Lib (``methods/bake.py``, ``IdentityBatchSampler``;
``main.py --method BAKE``: omega 0.5, T 4, M = 3 intra-class images, weight
1).
"""
from typing import Dict, List, Optional

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ...utils.validate import check_number
from ..losses.bake_losses import loss_ensemble_kd
from ..losses.functional import loss_ce
from ..utils.mixing import MixBatch
from .base import DistillClassifier

__all__ = ['BAKEClassifier']


@MODELS.register_module()
class BAKEClassifier(DistillClassifier):
    """A classifier distilled from its batch's propagated predictions.

    Each image's soft target is the ensemble of the batch's predictions
    weighted by feature affinity and propagated to convergence
    (:func:`~mixskd_mm.models.losses.bake_losses.knowledge_ensemble`, on
    the detached pooled features the head reads). The batch should hold
    groups of ``M + 1`` images of one class, as
    :class:`~mixskd_mm.datasets.IntraClassSampler` with ``num_partners=M``
    yields them with a batch size that is a multiple of ``M + 1``; a batch
    in which an image has no other image of its class is refused, as it
    means the sampler is not set. Nothing is added to the model, so it
    predicts like a plain ``ImageClassifier``.

    Loss dict keys, each times its weight in ``loss_weights`` and computed
    by the function of the same name:

    - ``loss_ce``: ``CE(z, y)`` over the whole batch through the head's
      configured ``loss`` (``ce``, default 1).
    - ``loss_ensemble_kd``: ``T^2 * mean_i KL(sg p_hat_i || softmax(z_i /
      T))`` (``ensemble_kd``, default 1 = BAKE's lambda).

    Args:
        backbone (dict): Backbone config.
        head (dict): Head config.
        neck (dict): Pooling; its output is the feature of the affinities.
            Defaults to ``GlobalAveragePooling``.
        omega (float): Ensembling weight, in [0, 1). Defaults to 0.5.
        temperature (float): T. Defaults to 4.
        resoftmax_targets (bool): Soft targets ``softmax(p_hat / T)`` as
            Self-KD-Lib's ``DistillKL`` computes them (to reproduce its
            figure), instead of BAKE's ``p_hat``. Defaults to False.
        loss_weights (dict, optional): ``ce`` and ``ensemble_kd``. Defaults
            to ``dict(ce=1, ensemble_kd=1)``.
        data_preprocessor (dict, optional): A plain ``ClsDataPreprocessor``
            (the default; a mixing one is refused).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(ce=1.0, ensemble_kd=1.0)

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 omega: float = 0.5,
                 temperature: float = 4.0,
                 resoftmax_targets: bool = False,
                 loss_weights: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            head=head,
            neck=neck,
            loss_weights=loss_weights,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            trains_on_mixed=False)
        self.temperature = temperature  # checked by DistillClassifier
        self.omega = check_number(
            omega, 'model.omega', 0.0, 1.0,
            why='the propagation (I - omega A)^-1 diverges at omega = 1; '
            'omega = 0 keeps each image\'s own prediction (no ensembling); '
            'the released value is 0.5')
        if self.omega == 1.0:
            raise ValueError(
                'model.omega must be in [0, 1), got 1.0: I - A is singular '
                '(A is row-stochastic); the released value is 0.5')
        if not isinstance(resoftmax_targets, bool):
            raise TypeError('model.resoftmax_targets must be a bool, got '
                            f'{resoftmax_targets!r}')
        self.resoftmax_targets = resoftmax_targets

    @staticmethod
    def check_groups(labels: Tensor) -> None:
        """Refuse a batch in which an image has no other of its class.

        Args:
            labels (Tensor): Long tensor (N, ).
        """
        peers = (labels[:, None] == labels[None, :]).sum(dim=1) - 1
        alone = (peers == 0).nonzero().flatten()
        if alone.numel():
            i = int(alone[0])
            raise ValueError(
                f'BAKEClassifier ensembles predictions of images of one '
                f'class, but image {i} of the batch (class '
                f'{int(labels[i])}) has no other image of its class: set '
                "train_dataloader.sampler=dict(type='IntraClassSampler', "
                'num_partners=M) and a train_dataloader.batch_size that is '
                'a multiple of M + 1')

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The BAKE objective.

        Args:
            inputs (Tensor): Normalised images, shape (N, C, H, W), in
                groups of one class.
            data_samples (list[DataSample]): With ``gt_label``.
            mix (MixBatch, optional): Unused (always None here).

        Returns:
            dict[str, Tensor]: ``loss_ce`` and ``loss_ensemble_kd``,
            weighted.
        """
        labels = self.gt_labels(data_samples)
        self.check_groups(labels)
        feats = self.extract_feat(inputs)[-1]  # (N, D), the neck's output
        logits = self.head((feats, ))  # (N, num_classes)
        return dict(
            loss_ce=self.weighted(
                'ce', loss_ce([self.head.loss_module], [logits], labels)),
            loss_ensemble_kd=self.weighted(
                'ensemble_kd',
                loss_ensemble_kd(logits, feats, self.omega, self.temperature,
                                 self.resoftmax_targets)))
