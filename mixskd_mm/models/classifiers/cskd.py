"""CS-KD: class-wise self-knowledge distillation.

Yun et al., "Regularizing Class-wise Predictions via Self-knowledge
Distillation", CVPR 2020, https://arxiv.org/abs/2003.13964, as released in
Self-KD-Lib (``methods/cs_kd.py``, ``PairBatchSampler``; ``main.py --method
CS-KD``: ``DistillKL`` with T = 4, weight 1).
"""
from typing import Dict, List, Optional

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.cskd_losses import loss_pair_kd
from ..losses.functional import loss_ce
from ..utils.mixing import MixBatch
from .base import DistillClassifier

__all__ = ['CSKDClassifier']

SAMPLER_HINT = ("set train_dataloader.sampler=dict(type='IntraClassSampler',"
                ' num_partners=1) and an even train_dataloader.batch_size')


@MODELS.register_module()
class CSKDClassifier(DistillClassifier):
    """A classifier that matches its predictions on images of one class.

    The batch is made of pairs ``(x_1, x'_1, x_2, x'_2, ...)`` of images of
    the same class, as :class:`~mixskd_mm.datasets.IntraClassSampler` with
    ``num_partners=1`` yields them. As released, the anchors ``x`` go
    through the network with gradient and the partners ``x'`` in a second
    pass under ``torch.no_grad`` (both in train mode: each half is
    normalised with its own batch statistics and both update BN's running
    statistics). Only the anchors' labels enter the CE. Nothing is added to
    the model, so it predicts like a plain ``ImageClassifier``.

    Loss dict keys, each times its weight in ``loss_weights`` and computed
    by the function of the same name:

    - ``loss_ce``: ``CE(z(x), y)`` through the head's configured ``loss``
      (``ce``, default 1).
    - ``loss_pair_kd``: ``KD_T(z(x) <- sg z(x'))``, ``T^2`` times the
      batch-mean KL (``pair_kd``, default 1 = the paper's lambda_cls).

    Args:
        backbone (dict): Backbone config.
        head (dict): Head config.
        neck (dict): Defaults to ``GlobalAveragePooling``.
        temperature (float): T. Defaults to 4.
        loss_weights (dict, optional): ``ce`` and ``pair_kd``. Defaults to
            ``dict(ce=1, pair_kd=1)``.
        data_preprocessor (dict, optional): A plain ``ClsDataPreprocessor``
            (the default; a mixing one is refused).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(ce=1.0, pair_kd=1.0)

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 temperature: float = 4.0,
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

    @staticmethod
    def check_pairs(labels: Tensor) -> None:
        """Refuse a batch that is not made of same-class pairs.

        Args:
            labels (Tensor): Long tensor (2 B, ), anchors at even positions.
        """
        n = labels.numel()
        if n % 2:
            raise ValueError(
                f'CSKDClassifier trains on pairs of images of one class, got '
                f'a batch of {n} images: {SAMPLER_HINT}')
        bad = (labels[0::2] != labels[1::2]).nonzero().flatten()
        if bad.numel():
            i = int(bad[0]) * 2
            raise ValueError(
                'CSKDClassifier trains on pairs of images of one class, but '
                f'images {i} and {i + 1} of the batch have classes '
                f'{int(labels[i])} and {int(labels[i + 1])}: {SAMPLER_HINT}')

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The CS-KD objective.

        Args:
            inputs (Tensor): Normalised images, shape (2 B, C, H, W):
                anchors at even positions, each followed by its partner.
            data_samples (list[DataSample]): With ``gt_label``.
            mix (MixBatch, optional): Unused (always None here).

        Returns:
            dict[str, Tensor]: ``loss_ce`` and ``loss_pair_kd``, weighted.
        """
        labels = self.gt_labels(data_samples)
        self.check_pairs(labels)
        logits = self.head(self.extract_feat(inputs[0::2]))  # (B, classes)
        with torch.no_grad():
            partner_logits = self.head(self.extract_feat(inputs[1::2]))
        return dict(
            loss_ce=self.weighted(
                'ce',
                loss_ce([self.head.loss_module], [logits], labels[0::2])),
            loss_pair_kd=self.weighted(
                'pair_kd',
                loss_pair_kd(logits, partner_logits, self.temperature)))
