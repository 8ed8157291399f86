"""Tf-KD-reg: teacher-free KD from a hand-made distribution.

Yuan et al., "Revisiting Knowledge Distillation via Label Smoothing
Regularization", CVPR 2020, https://arxiv.org/abs/1909.11723, as released
in Self-KD-Lib (``methods/tf_kd_reg.py``; ``main.py --method
TF_KD_self_reg``: ``epsilon=0.1``, ``T=20``, the term added with weight 1).
"""
from typing import Dict, List, Optional

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ...utils.validate import check_number
from ..losses.functional import loss_ce
from ..losses.tfkd_losses import loss_tfkd
from ..utils.mixing import MixBatch
from .base import DistillClassifier

__all__ = ['TfKDRegClassifier']


@MODELS.register_module()
class TfKDRegClassifier(DistillClassifier):
    """A classifier regularised by a virtual teacher (Tf-KD-reg).

    The teacher is no network: for an image of class ``y`` it puts
    probability ``a`` (``correct_prob``) on ``y`` and ``(1 - a) / (C - 1)``
    on every other class. Nothing is added to the model, so it trains and
    predicts like a plain ``ImageClassifier``.

    Loss dict keys, each times its weight in ``loss_weights`` and computed
    by the function of the same name:

    - ``loss_ce``: ``CE(z, y)`` through the head's configured ``loss``
      (``ce``, default 1).
    - ``loss_tfkd``: ``-(1 / T) * mean_i sum_c q_ic log softmax(z_i / T)_c``
      (``tfkd``, default 1): the released term, whose ``1 / T`` is its
      multiplier.

    Args:
        backbone (dict): Backbone config.
        head (dict): Head config; its ``num_classes`` is C.
        neck (dict): Defaults to ``GlobalAveragePooling``.
        correct_prob (float): ``a``, in (1 / C, 1]. Defaults to 0.9 (the
            released ``epsilon = 0.1``).
        temperature (float): T. Defaults to 20.
        loss_weights (dict, optional): ``ce`` and ``tfkd``. Defaults to
            ``dict(ce=1, tfkd=1)``.
        data_preprocessor (dict, optional): A plain ``ClsDataPreprocessor``
            (the default; a mixing one is refused).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(ce=1.0, tfkd=1.0)

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 correct_prob: float = 0.9,
                 temperature: float = 20.0,
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
        num_classes = getattr(self.head, 'num_classes', None)
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(
                'TfKDRegClassifier spreads 1 - correct_prob over the other '
                'classes: the head needs num_classes >= 2, got '
                f'{num_classes!r}')
        self.correct_prob = check_number(
            correct_prob, 'model.correct_prob', 1.0 / num_classes, 1.0,
            low_open=True,
            why=f'the virtual teacher must favour the correct class over '
            f'each of the other {num_classes - 1} (a = 1 / C is uniform); '
            'the released value is 0.9')

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The Tf-KD-reg objective on the original batch.

        Args:
            inputs (Tensor): Normalised images, shape (N, C, H, W).
            data_samples (list[DataSample]): With ``gt_label``.
            mix (MixBatch, optional): Unused (always None here).

        Returns:
            dict[str, Tensor]: ``loss_ce`` and ``loss_tfkd``, weighted.
        """
        labels = self.gt_labels(data_samples)
        logits = self.head(self.extract_feat(inputs))  # (N, num_classes)
        return dict(
            loss_ce=self.weighted(
                'ce', loss_ce([self.head.loss_module], [logits], labels)),
            loss_tfkd=self.weighted(
                'tfkd', loss_tfkd(logits, labels, self.correct_prob,
                                  self.temperature)))
