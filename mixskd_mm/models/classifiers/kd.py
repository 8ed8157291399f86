"""Classic teacher-student knowledge distillation (Hinton et al., 2015).

"Distilling the Knowledge in a Neural Network",
https://arxiv.org/abs/1503.02531, with the defaults of the RepDistiller code
base (``-r 0.1 -a 0.9``, T = 4) that MIX-KD builds on (reference-methods.md
section 4). The baseline for :class:`MixKDClassifier`.
"""
from typing import Dict, List, Optional

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.functional import loss_ce, loss_kd
from ..utils.mixing import MixBatch
from ..utils.teacher import FrozenTeacher
from .base import DistillClassifier

__all__ = ['KDClassifier']


@MODELS.register_module()
class KDClassifier(DistillClassifier):
    """A student distilled from a frozen, pre-trained teacher.

    Both networks read the same original batch; the teacher
    (:class:`FrozenTeacher`, under ``teacher``) is built from its config and
    checkpoint, stays in eval mode and gets no gradient. Prediction uses only
    the student's ``backbone``, ``neck`` and ``head``.

    Loss dict keys, each times its weight in ``loss_weights`` and computed
    by the function of the same name:

    - ``loss_ce``: ``CE(s(x), y)`` through the head's configured ``loss``
      (``ce`` = 1 - a = 0.1).
    - ``loss_kd``: ``KD_T(s <- sg t)``, ``T^2`` times the batch-mean KL
      (``kd`` = a = 0.9).

    The defaults are RepDistiller's CIFAR-100 KD (gamma 0.1, alpha 0.9,
    T 4). mmrazor's ImageNet recipe (``kd_logits_resnet34_resnet18``) uses
    CE weight 1, KD weight 5 and T 1 instead; set ``loss_weights`` and
    ``temperature`` to reproduce it.

    Args:
        backbone (dict): Student backbone config.
        head (dict): Student head config.
        teacher (dict): ``dict(config=..., checkpoint=...)``, the
            :class:`FrozenTeacher` arguments: a config path or model dict,
            and the trained weights. Its ``num_classes`` and normalisation
            must match the student's.
        neck (dict): Defaults to ``GlobalAveragePooling``.
        temperature (float): T. Defaults to 4.
        loss_weights (dict, optional): ``ce`` and ``kd``. Defaults to
            ``dict(ce=0.1, kd=0.9)``.
        data_preprocessor (dict, optional): A plain ``ClsDataPreprocessor``
            (the default; KD needs no mixing, and a
            ``MixSKDDataPreprocessor`` is refused).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(ce=0.1, kd=0.9)

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 teacher: dict,
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
            trains_on_mixed=False,
            preprocessor_hint='; MixKDClassifier distils on mixed images')
        self.temperature = temperature  # checked by DistillClassifier
        self.teacher = FrozenTeacher(**teacher)
        self.teacher.check_compatible(self.head, self.data_preprocessor)

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The KD objective on the original batch.

        Args:
            inputs (Tensor): Normalised images, shape (N, C, H, W).
            data_samples (list[DataSample]): With ``gt_label``.
            mix (MixBatch, optional): Unused (always None here).

        Returns:
            dict[str, Tensor]: ``loss_ce`` and ``loss_kd``, weighted.
        """
        labels = self.gt_labels(data_samples)
        logits = self.head(self.extract_feat(inputs))  # (N, num_classes)
        teacher_logits = self.teacher(inputs)  # (N, num_classes), no grad
        return dict(
            loss_ce=self.weighted(
                'ce', loss_ce([self.head.loss_module], [logits], labels)),
            loss_kd=self.weighted(
                'kd', loss_kd(logits, teacher_logits, self.temperature)))
