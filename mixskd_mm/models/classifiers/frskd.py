"""FRSKD: feature refinement via self-knowledge distillation.

Ji et al., "Refine Myself by Teaching Myself: Feature Refinement via
Self-Knowledge Distillation", CVPR 2021, https://arxiv.org/abs/2103.08273.
Follows the released code (``MingiJi/FRSKD``, ``classification/``);
reference-methods.md section 2 lists the architecture and every term.
"""
from typing import Dict, List, Optional, Set

import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.frskd_losses import loss_at
from ..losses.functional import loss_ce, loss_kd, loss_mix_ce
from ..stages import stage_adapter
from ..utils.mixing import MixBatch
from .base import DistillClassifier

__all__ = ['FRSKDClassifier']

TRAIN_ON = ('original', 'mixed')


@MODELS.register_module()
class FRSKDClassifier(DistillClassifier):
    """FRSKD classifier: backbone, head and a BiFPN self-teacher.

    The self-teacher (:class:`FRSKDBiFPN`, ``self_teacher``) fuses the
    backbone's four stage outputs top-down and bottom-up into refined maps of
    the same resolutions (``width`` times the channels, all >= 0: the
    released ``BiFPN_layer`` with its ReLUs and "same" max-pool); global
    average pooling of the deepest refined map feeds its own linear head
    (``teacher_head``, a copy of ``head``). The classifier learns from the
    self-teacher's logits (KD) and, at every level, from its refined maps
    (attention transfer). Both are dropped after training: prediction uses
    only ``backbone``, ``neck`` and ``head``.

    Loss dict keys (reference-methods.md section 2.2), each times its weight
    in ``loss_weights`` and computed by the function of the same name; the
    CE terms through each head's configured ``loss``:

    - ``loss_ce``: CE of the classifier (weight ``ce``, default 1); with
      ``train_on='mixed'`` the mixed-label ``loss_mix_ce`` instead (same
      weight ``ce``, so one config serves both batches).
    - ``loss_teacher_ce``: CE of the self-teacher (``teacher_ce``, 1); its
      gradient also reaches the backbone through the BiFPN's inputs. With
      ``train_on='mixed'``: ``loss_teacher_mix_ce`` (weight
      ``teacher_ce``).
    - ``loss_kd``: ``KD_T(z <- sg t)`` (``kd`` = alpha, 2); reaches the
      classifier only.
    - ``loss_at``: ``sum_i AT(S_i, sg R_i)`` over the four levels (``at`` =
      beta, 100); reaches the backbone only.

    ``train_on`` chooses the batch:

    - 'original' (default, the released code without ``--aug``): the
      originals with plain CE. No mixing is needed, so the data preprocessor
      is a plain ``ClsDataPreprocessor`` (the default when none is given);
      a ``MixSKDDataPreprocessor`` is refused, as its draws would be ignored.
    - 'mixed' (``--aug mixup`` / ``--aug cutmix``): only the mixed batch of a
      ``MixSKDDataPreprocessor`` (``mix_mode='mixup'``, ``alpha=0.2``, or
      ``'cutmix'``, ``alpha=1.0``; the other modes work too), both CEs
      become mixed-label CEs (``loss_mix_ce``, ``loss_teacher_mix_ce``),
      the distillation terms are unchanged.

    Args:
        backbone (dict): A backbone with a stage adapter
            (:mod:`mixskd_mm.models.stages`) returning all its stages, e.g.
            ``out_indices=(0, 1, 2, 3)``.
        head (dict): The classifier's head (``LinearClsHead``-like); the
            teacher head is a copy with ``in_channels`` set.
        neck (dict): Pooling before ``head``. Defaults to
            ``GlobalAveragePooling``.
        self_teacher (dict): The :class:`FRSKDBiFPN` config;
            ``in_channels`` is filled in from the backbone. Defaults to
            ``dict(type='FRSKDBiFPN', width=2, depth=2)`` (``BiFPNc``).
        train_on (str): 'original' or 'mixed'. Defaults to 'original'.
        temperature (float): KD temperature T. Defaults to 4.
        loss_weights (dict, optional): Weights by term name (``ce``,
            ``teacher_ce``, ``kd``, ``at``). Defaults to
            ``dict(ce=1, teacher_ce=1, kd=2, at=100)`` (the README's CIFAR-100
            alpha and beta).
        data_preprocessor (dict, optional): Defaults to
            ``ClsDataPreprocessor`` for 'original' and to
            ``MixSKDDataPreprocessor(mix_mode='mixup', alpha=0.2)`` for
            'mixed'. A dict without ``type`` gets that type.
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(ce=1.0, teacher_ce=1.0, kd=2.0, at=100.0)

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 self_teacher: dict = dict(
                     type='FRSKDBiFPN', width=2, depth=2),
                 train_on: str = 'original',
                 temperature: float = 4.0,
                 loss_weights: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if train_on not in TRAIN_ON:
            raise ValueError(
                f'train_on must be one of {TRAIN_ON}, got {train_on!r}')
        super().__init__(
            backbone=backbone,
            head=head,
            neck=neck,
            loss_weights=loss_weights,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            trains_on_mixed=train_on == 'mixed',
            preprocessor_hint=(
                "; train_on='mixed' needs the mixed batch"
                if train_on == 'mixed' else
                "; train_on='original' would ignore its draws, set "
                "train_on='mixed' to train on the mixed batch"))
        self.train_on = train_on
        self.temperature = temperature

        stages = stage_adapter(self.backbone)
        stages.check_outputs('FRSKD')
        in_channels = stages.channels
        # Self-teacher: BiFPN over the stages, GAP, its own linear head.
        self.self_teacher = MODELS.build(
            dict(self_teacher, in_channels=in_channels))
        self.teacher_head = MODELS.build(
            dict(
                self.head_cfg,
                in_channels=self.self_teacher.out_channels[-1]))
        self.freeze_unweighted_parts()

    def parts_trained_by(self) -> Dict[str, Set[str]]:
        """The terms whose gradients reach each training-only part.

        The KD and attention terms detach the self-teacher's logits and
        refined maps, so only ``teacher_ce`` trains the BiFPN and its head:
        ``loss_weights=dict(teacher_ce=0)`` freezes both.
        """
        return dict(self_teacher={'teacher_ce'}, teacher_head={'teacher_ce'})

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The FRSKD objective.

        Args:
            inputs (Tensor): Normalised originals, shape (N, C, H, W).
            data_samples (list[DataSample]): With ``gt_label``.
            mix (MixBatch, optional): The mixed batch (N, C, H, W), lambda
                (N, ) and partners (N, ); required with ``train_on='mixed'``.

        Returns:
            dict[str, Tensor]: The weighted terms, see the class docstring.
        """
        labels = self.gt_labels(data_samples)
        x = inputs
        if self.train_on == 'mixed':
            mix = self.require_mix(mix)
            x = mix.mixed

        stages = self.backbone(x)  # four (N, C_i, H_i, W_i)
        logits = self.head(self.neck((stages[-1], )))  # (N, num_classes)
        refined = self.self_teacher(stages)  # four (N, 2 C_i, H_i, W_i)
        pooled = F.adaptive_avg_pool2d(refined[-1], 1).flatten(1)
        teacher_logits = self.teacher_head((pooled, ))

        head_loss = [self.head.loss_module]
        teacher_loss = [self.teacher_head.loss_module]
        if self.train_on == 'mixed':
            ce = dict(
                loss_mix_ce=loss_mix_ce(head_loss, [logits], labels,
                                        mix.lam, mix.index),
                loss_teacher_mix_ce=loss_mix_ce(teacher_loss,
                                                [teacher_logits], labels,
                                                mix.lam, mix.index))
        else:
            ce = dict(
                loss_ce=loss_ce(head_loss, [logits], labels),
                loss_teacher_ce=loss_ce(teacher_loss, [teacher_logits],
                                        labels))
        weight_of = dict(loss_mix_ce='ce', loss_teacher_mix_ce='teacher_ce',
                         loss_ce='ce', loss_teacher_ce='teacher_ce')
        losses = {k: self.weighted(weight_of[k], v) for k, v in ce.items()}
        losses.update(
            loss_kd=self.weighted(
                'kd', loss_kd(logits, teacher_logits, self.temperature)),
            loss_at=self.weighted('at', loss_at(stages, refined)))
        return losses
