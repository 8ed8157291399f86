"""MIX-KD: knowledge distillation on partially mixed batches.

Choi et al., "Understanding the Role of Mixup in Knowledge Distillation: An
Empirical Study", WACV 2023, https://arxiv.org/abs/2211.03946. Follows the
released code (``hchoi71/MIX-KD``, ``distiller_zoo/MIXSTD.py``,
``helper/loops_mixstd.py``); reference-methods.md section 4.
"""
from typing import Dict, List, Optional

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.functional import loss_kd, loss_mix_ce, std_normalize_logits
from ..utils.mixing import MixBatch
from ..utils.teacher import FrozenTeacher
from .base import DistillClassifier

__all__ = ['MixKDClassifier']


@MODELS.register_module()
class MixKDClassifier(DistillClassifier):
    """A student distilled from a frozen teacher on a partially mixed batch.

    ``MixSKDDataPreprocessor(mix_mode='partial_mixup')`` gives every sample
    its own lambda ~ Beta(1, 1) and then leaves ``0.1 * N`` samples mixed
    (``mixed_fraction=0.1``), rounded without bias: 6 or 7 of 64 (6.4 on
    average), 1 or 2 of a last batch of 16, so that exactly 10 % are mixed
    in expectation; ``sample_with_replacement=True`` reproduces the
    released sampling, which leaves about 41 % mixed for a batch of 64.
    Student and teacher (:class:`FrozenTeacher`, under ``teacher``; eval
    mode, no gradient) both read that mixed batch only. Instead of a
    temperature, both logits are divided by their own per-sample standard
    deviation, in both terms. Prediction uses only the student's
    ``backbone``, ``neck`` and ``head``.

    Loss dict keys (section 4), each times its weight in ``loss_weights``
    and computed by the function of the same name, both on the logits
    divided by their own standard deviation (``s~``, ``t~``;
    :func:`std_normalize_logits`):

    - ``loss_mix_ce``: ``CE_soft(s~, y_mix)``, the mixed-label CE of the
      student's std-normalised logits (``mix_ce`` = gamma = 0.1), as the
      released ``MIXSTDLoss`` computes it, through the head's configured
      ``loss``. The student sees only the partially mixed batch, so there
      is no ``loss_ce``; its unmixed samples have ``lam = 1``.
    - ``loss_kd``: ``mean_i KL(t~_i || s~_i)``, ``loss_kd`` with T = 1
      (no ``T^2``; ``kd`` = alpha = 0.9).

    Args:
        backbone (dict): Student backbone config.
        head (dict): Student head config.
        teacher (dict): ``dict(config=..., checkpoint=...)``, the
            :class:`FrozenTeacher` arguments. Its ``num_classes`` and
            normalisation must match the student's.
        neck (dict): Defaults to ``GlobalAveragePooling``.
        loss_weights (dict, optional): ``mix_ce`` and ``kd``. Defaults to
            ``dict(mix_ce=0.1, kd=0.9)``.
        data_preprocessor (dict, optional): Defaults to
            ``MixSKDDataPreprocessor(mix_mode='partial_mixup', alpha=1.0,
            mixed_fraction=0.1)``; a dict without ``type`` gets these
            defaults. ``mixed_fraction=1.0`` mixes every sample (the
            paper's full mixup, FMU).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(mix_ce=0.1, kd=0.9)
    DEFAULT_MIX = dict(
        mix_mode='partial_mixup', alpha=1.0, mixed_fraction=0.1)

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 teacher: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 loss_weights: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            head=head,
            neck=neck,
            loss_weights=loss_weights,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.teacher = FrozenTeacher(**teacher)
        self.teacher.check_compatible(self.head, self.data_preprocessor)

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The MIX-KD objective on the partially mixed batch.

        Args:
            inputs (Tensor): Normalised originals (N, C, H, W); unused, both
                networks read ``mix.mixed``.
            data_samples (list[DataSample]): With ``gt_label``.
            mix (MixBatch): Mixed images (N, C, H, W), lambda (N, ) (1 for
                unmixed samples) and partners (N, ).

        Returns:
            dict[str, Tensor]: ``loss_mix_ce`` and ``loss_kd``, weighted.
        """
        mix = self.require_mix(mix)
        labels = self.gt_labels(data_samples)
        logits = self.head(self.extract_feat(mix.mixed))  # (N, classes)
        teacher_logits = self.teacher(mix.mixed)  # (N, classes), no grad
        s_std = std_normalize_logits(logits)  # gradient through std(s)
        t_std = std_normalize_logits(teacher_logits)
        return dict(
            loss_mix_ce=self.weighted(
                'mix_ce',
                loss_mix_ce([self.head.loss_module], [s_std], labels,
                            mix.lam, mix.index)),
            loss_kd=self.weighted('kd', loss_kd(s_std, t_std)))
