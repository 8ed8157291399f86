"""MixSKD: self-knowledge distillation from mixup (Yang et al., ECCV 2022).

Paper: https://arxiv.org/abs/2208.05768. The recipe follows the authors'
released ImageNet script; reference-methods.md section 1 lists every term,
detach and architecture detail and the deviations of the released code.
"""
import copy
from typing import Dict, List, Optional, Set, Tuple, Union

import torch
from mmengine.model import ModuleList
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.functional import loss_ce, loss_mix_ce
from ..losses.mixskd_losses import (loss_adv, loss_feat, loss_mutual_kd,
                                    loss_teacher_kd, loss_teacher_mix_ce)
from ..stages import stage_adapter
from ..utils.branches import build_branches
from ..utils.discriminator import FeatureDiscriminator
from ..utils.mixing import MixBatch, interpolate
from .base import DistillClassifier

__all__ = ['MixSKDClassifier']

TEACHER_INPUTS = ('branch_outputs', 'backbone_stages')
WITH_CP = (False, True, 'branches', 'all')


def _check_fusion(fusion: Optional[str], teacher_inputs: str) -> None:
    """Refuse a self-teacher fusion that cannot read ``teacher_inputs``.

    The four branch outputs share the final resolution, which BiFPN cannot
    fuse (each level must halve the one before); the backbone stages have
    four resolutions, which concatenation cannot stack.
    """
    need = dict(branch_outputs='concat', backbone_stages='bifpn')
    if fusion is not None and fusion != need[teacher_inputs]:
        raise ValueError(
            f"model.self_teacher.fusion={fusion!r} cannot read "
            f"teacher_inputs={teacher_inputs!r}: use fusion="
            f"{need[teacher_inputs]!r}, or teacher_inputs="
            f"{[k for k, v in need.items() if v == fusion][0]!r}")


@MODELS.register_module()
class MixSKDClassifier(DistillClassifier):
    """MixSKD classifier: backbone, auxiliary branches and a self-teacher.

    Training, for originals ``x`` and mixup images ``x_mix`` (from
    ``MixSKDDataPreprocessor``): the network runs once on ``cat([x, x_mix])``
    (BN statistics over both, as in the authors' code). Four paths end at
    the final resolution: three auxiliary branches (fresh copies of the
    stages after stages 1, 2, 3) and the backbone's last stage; each has its
    own linear head. Their maps and logits on ``x_mix`` are made consistent,
    in both directions, with the interpolation of those on ``x``; the
    self-teacher (:class:`SelfTeacherNeck` + ``teacher_head``) reads the four
    maps and gives soft labels to the backbone's head.

    Loss dict keys (rows of reference-methods.md section 1.5), each times its
    weight in ``loss_weights`` and computed by the function of the same
    name; the CE terms through each head's configured ``loss``:

    - ``loss_ce``: row 1, CE of all four heads on the originals.
    - ``loss_mix_ce``: row 2, mixed-label CE of all heads on ``x_mix``.
    - ``loss_teacher_mix_ce``: row 3, mixed-label CE of the self-teacher on
      the interpolated and on the mixup-image maps.
    - ``loss_mutual_kd``: row 4, mutual KD between interpolated and mixup
      logits of the three branch heads.
    - ``loss_teacher_kd``: row 5, self-teacher -> backbone head KD.
    - ``loss_feat``: row 6, MSE between interpolated and mixup-image maps.
    - ``loss_adv``: row 7, only with ``adversarial`` set (off by default):
      trained discriminators behind a gradient-reversal layer.

    The released CIFAR script leaves rows 2 and 3 out of the total (its
    self-teacher is then never trained); to reproduce it, set
    ``loss_weights=dict(mix_ce=0, teacher_mix_ce=0)``: the self-teacher and
    its head are then frozen at their initialisation
    (``requires_grad=False``, see :meth:`parts_trained_by`), as in the
    released run.

    Prediction uses only ``backbone``, ``neck`` and ``head``.

    Args:
        backbone (dict): A four-stage backbone with a stage adapter
            (:mod:`mixskd_mm.models.stages`: the ResNet family, ResNeXt,
            RegNet, ConvNeXt, Swin, MobileNetV2) returning every stage, e.g.
            ``out_indices=(0, 1, 2, 3)``.
        head (dict): The backbone's head, e.g. ``LinearClsHead``; the branch
            heads and the teacher head are copies of it.
        neck (dict): Pooling before every head. Defaults to
            ``GlobalAveragePooling``.
        self_teacher (dict): The :class:`SelfTeacherNeck` config;
            ``in_channels`` is filled in. Defaults to the authors'
            concatenation + 1x1 convolution.
        teacher_inputs (str): What the self-teacher aggregates:
            'branch_outputs' (the four final-resolution maps, authors' code)
            or 'backbone_stages' (the backbone's four stages at their own
            resolution; needs ``fusion='bifpn'``). Defaults to
            'branch_outputs'.
        branch_depth (str): 'full' (each branch copies the remaining stages
            whole: the released ImageNet recipe) or 'light' (one block per
            stage). Defaults to 'full'.
        temperature (float): KD temperature T of rows 4 and 5. Defaults to 3.
        loss_weights (dict, optional): Weights by term name (``ce``,
            ``mix_ce``, ``teacher_mix_ce``, ``mutual_kd``, ``teacher_kd``,
            ``feat``, ``adv``). Defaults to 1 each.
        with_cp (bool | str): Activation checkpointing in training, block
            by block, exact (same loss, gradients and BN running statistics:
            ``utils/checkpointing.py``): False, 'branches' (or True: the
            three auxiliary branches) or 'all' (the branches and the
            backbone's stages, ``StageAdapter.checkpoint_backbone``). It
            trades one more forward of those blocks for their stored
            activations. Set it here, not as the
            backbone's own ``with_cp``, which updates BN statistics twice.
            Defaults to False.
        adversarial (dict, optional): Turns row 7 on:
            ``dict(hidden_channels=128, grl_coeff=1.0)``. Defaults to None.
        data_preprocessor (dict, optional): Defaults to
            ``MixSKDDataPreprocessor`` (mixup, alpha 0.2).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(
        ce=1.0,
        mix_ce=1.0,
        teacher_mix_ce=1.0,
        mutual_kd=1.0,
        teacher_kd=1.0,
        feat=1.0,
        adv=1.0)

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 self_teacher: dict = dict(type='SelfTeacherNeck'),
                 teacher_inputs: str = 'branch_outputs',
                 branch_depth: str = 'full',
                 with_cp: Union[bool, str] = False,
                 temperature: float = 3.0,
                 loss_weights: Optional[dict] = None,
                 adversarial: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            head=head,
            neck=neck,
            loss_weights=loss_weights,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if teacher_inputs not in TEACHER_INPUTS:
            raise ValueError(f'teacher_inputs must be one of '
                             f'{TEACHER_INPUTS}, got {teacher_inputs!r}')
        stages = stage_adapter(self.backbone)
        stages.check_outputs('MixSKD')
        self.temperature = temperature  # checked by DistillClassifier
        self.teacher_inputs = teacher_inputs

        # Auxiliary branches after stages 1-3, each with its own head.
        if with_cp not in WITH_CP:
            raise ValueError(
                f'with_cp must be one of {WITH_CP}, got {with_cp!r}')
        if getattr(self.backbone, 'with_cp', False):
            raise ValueError(
                'backbone.with_cp=True (mmpretrain\'s checkpointing) updates '
                'the BN running statistics twice per step: remove it and '
                "set MixSKDClassifier(with_cp='all') instead")
        # A family of another depth would silently change the method.
        if stages.num_stages != 4:
            raise ValueError(
                f'MixSKD attaches branches after stages 1-3 of a four-stage '
                f'backbone; {type(self.backbone).__name__} has '
                f'{stages.num_stages} stages')
        self.with_cp = 'branches' if with_cp is True else with_cp
        self.branches = build_branches(self.backbone, branch_depth,
                                       with_cp=bool(self.with_cp))
        if self.with_cp == 'all':
            stages.checkpoint_backbone()
        self.branch_heads = ModuleList(
            MODELS.build(copy.deepcopy(self.head_cfg))
            for _ in self.branches)

        # Self-teacher: aggregation neck + its own linear head.
        stage_channels = stages.channels
        in_channels = (
            stage_channels if teacher_inputs == 'backbone_stages' else
            [stage_channels[-1]] * len(stage_channels))
        self.self_teacher = MODELS.build(
            dict(self_teacher, in_channels=in_channels))
        _check_fusion(getattr(self.self_teacher, 'fusion', None),
                      teacher_inputs)
        self.teacher_head = MODELS.build(
            dict(self.head_cfg, in_channels=self.self_teacher.out_channels))

        # Optional adversarial term (row 7): registered, trained modules.
        self.adv_grl_coeff = None
        if adversarial is not None:
            adversarial = dict(adversarial)
            self.adv_grl_coeff = float(adversarial.pop('grl_coeff', 1.0))
            self.discriminators = ModuleList(
                FeatureDiscriminator(stage_channels[-1], **adversarial)
                for _ in range(len(stage_channels)))
        self.freeze_unweighted_parts()

    def parts_trained_by(self) -> Dict[str, Set[str]]:
        """The terms whose gradients reach each training-only part.

        Row 5 detaches the self-teacher, so only row 3 (``teacher_mix_ce``)
        trains it: ``loss_weights=dict(mix_ce=0, teacher_mix_ce=0)`` (the
        released CIFAR script) freezes it at its initialisation.
        """
        branch_terms = {'ce', 'mix_ce', 'mutual_kd', 'feat'}
        if self.teacher_inputs == 'branch_outputs':
            branch_terms.add('teacher_mix_ce')
        parts = dict(
            branches=branch_terms,
            branch_heads={'ce', 'mix_ce', 'mutual_kd'},
            self_teacher={'teacher_mix_ce'},
            teacher_head={'teacher_mix_ce'})
        if self.adv_grl_coeff is not None:
            branch_terms.add('adv')
            parts['discriminators'] = {'adv'}
        return parts

    def forward_paths(
        self, x: Tensor
    ) -> Tuple[List[Tensor], List[Tensor], List[Tensor]]:
        """Run the backbone, the branches and all four heads.

        Args:
            x (Tensor): Images, shape (M, C, H, W).

        Returns:
            tuple: ``stages`` (the backbone's four outputs), ``maps`` (the
            branch outputs F_1..F_3 and the last stage F_4, each
            (M, C_last, h, w)) and ``logits`` (four (M, num_classes)).
        """
        stages = list(self.backbone(x))
        maps = [
            branch(stage) for branch, stage in zip(self.branches, stages)
        ] + [stages[-1]]
        heads = list(self.branch_heads) + [self.head]
        logits = [head(self.neck((m, ))) for head, m in zip(heads, maps)]
        return stages, maps, logits

    def self_teacher_logits(self, feats_bar: List[Tensor],
                            feats_mix: List[Tensor]) -> Tuple[Tensor, Tensor]:
        """t(F_bar) and t(F(x_mix)) in one pass of the shared self-teacher.
        """
        joint = [torch.cat([b, m]) for b, m in zip(feats_bar, feats_mix)]
        logits = self.teacher_head(self.self_teacher(joint))
        return logits.chunk(2)

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The MixSKD objective.

        Args:
            inputs (Tensor): Normalised originals, shape (N, C, H, W).
            data_samples (list[DataSample]): With ``gt_label``.
            mix (MixBatch): Mixup images (N, C, H, W), lambda (N, ) and
                partner index (N, ) from ``MixSKDDataPreprocessor``.

        Returns:
            dict[str, Tensor]: The weighted terms, see the class docstring.
        """
        mix = self.require_mix(mix)
        labels = self.gt_labels(data_samples)
        lam, index = mix.lam, mix.index
        n = inputs.size(0)

        stages, maps, logits = self.forward_paths(
            torch.cat([inputs, mix.mixed]))
        # First half: originals; second half: mixup images.
        maps_x, maps_mix = zip(*(m.split(n) for m in maps))
        logits_x, logits_mix = zip(*(z.split(n) for z in logits))
        maps_bar = [interpolate(m, lam, index) for m in maps_x]
        logits_bar = [interpolate(z, lam, index) for z in logits_x]

        if self.teacher_inputs == 'branch_outputs':
            teacher_bar, teacher_mix = self.self_teacher_logits(
                maps_bar, list(maps_mix))
        else:
            stages_x, stages_mix = zip(*(s.split(n) for s in stages))
            teacher_bar, teacher_mix = self.self_teacher_logits(
                [interpolate(s, lam, index) for s in stages_x],
                list(stages_mix))

        t = self.temperature
        head_losses = [h.loss_module
                       for h in list(self.branch_heads) + [self.head]]
        losses = dict(
            loss_ce=self.weighted('ce',
                                  loss_ce(head_losses, logits_x, labels)),
            loss_mix_ce=self.weighted(
                'mix_ce',
                loss_mix_ce(head_losses, logits_mix, labels, lam, index)),
            loss_teacher_mix_ce=self.weighted(
                'teacher_mix_ce',
                loss_teacher_mix_ce(self.teacher_head.loss_module,
                                    teacher_bar, teacher_mix, labels, lam,
                                    index)),
            loss_mutual_kd=self.weighted(
                'mutual_kd',
                loss_mutual_kd(logits_bar[:-1], logits_mix[:-1], t)),
            loss_teacher_kd=self.weighted(
                'teacher_kd',
                loss_teacher_kd(logits_bar[-1], logits_mix[-1], teacher_bar,
                                teacher_mix, t)),
            loss_feat=self.weighted('feat', loss_feat(maps_bar, maps_mix)))
        if self.adv_grl_coeff is not None:
            losses['loss_adv'] = self.weighted(
                'adv',
                loss_adv(self.discriminators, maps_bar, maps_mix,
                         self.adv_grl_coeff))
        return losses
