"""Manifold mixup: mixup of a hidden representation of the backbone.

"Manifold Mixup: Better Representations by Interpolating Hidden States",
Verma et al., ICML 2019, https://arxiv.org/abs/1806.05236; settings of the
Self-KD-Lib release (``methods/manifold_mixup.py``, the
``manifold_mixup_CIFAR_ResNet18`` model, ``main.py --method
manifold_mixup``).
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import get_rank
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ...utils.validate import check_number
from ..losses.functional import loss_mix_ce
from ..stages import stage_adapter
from ..utils.mixing import MixBatch, draw_mixup
from .base import DistillClassifier

__all__ = ['ManifoldMixupClassifier', 'MIX_POINTS']

#: Where the batch can be mixed: the images, the stem's output (the first
#: stage's input) or the output of stage K ('layerK', ResNet's names, for
#: every backbone family).
MIX_POINTS = ('input', 'stem', 'layer1', 'layer2', 'layer3', 'layer4')


@MODELS.register_module()
class ManifoldMixupClassifier(DistillClassifier):
    """Mixup at a layer drawn anew for every training batch.

    For each batch one point of ``mix_points`` is drawn uniformly; there
    the representation ``h`` (N, C, H, W) becomes ``lam * h + (1 - lam) *
    h[index]`` with one ``lam ~ Beta(alpha, alpha)`` per batch and a random
    permutation ``index`` (:func:`~mixskd_mm.models.utils.mixing.draw_mixup`
    on the hidden tensor), and the rest of the network runs on it. The
    points are hooks on the backbone's stages, found by its stage adapter
    (:mod:`mixskd_mm.models.stages`): 'stem' mixes the input of the first
    stage, 'layerK' the output of stage K, 'input' the images.
    Gradients flow through both partners, as released. Prediction is the
    parent's (no mixing).

    Loss dict key, times its weight in ``loss_weights``:

    - ``loss_mix_ce``: ``lam * L(z, y) + (1 - lam) * L(z, y[index])``
      through the head's ``loss_module`` (``mix_ce`` = 1).

    Args:
        backbone (dict): A backbone; one with a stage adapter for the
            points other than 'input'.
        head (dict): Head config.
        neck (dict): Defaults to ``GlobalAveragePooling``.
        alpha (float): Beta(alpha, alpha) parameter, > 0. Defaults to 2.0
            (released).
        mix_points (Sequence[str]): Candidates of :data:`MIX_POINTS`.
            Defaults to the released ``('stem', 'layer1', 'layer2',
            'layer3')`` (the inputs of the four stages).
        seed (int, optional): Seed of the draws' generator, combined with
            the process rank. Defaults to None: ``torch.initial_seed()`` at
            the first training batch (the seed the Runner set).
        loss_weights (dict, optional): ``mix_ce``. Defaults to
            ``dict(mix_ce=1.0)``.
        data_preprocessor (dict, optional): A ``ClsDataPreprocessor`` (the
            default; a mixing one is refused: mixing is this class's job).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(mix_ce=1.0)

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 alpha: float = 2.0,
                 mix_points: Sequence[str] = ('stem', 'layer1', 'layer2',
                                              'layer3'),
                 seed: Optional[int] = None,
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
            preprocessor_hint='; ManifoldMixupClassifier mixes inside the '
            'network')
        self.alpha = check_number(alpha, 'model.alpha', 0, low_open=True,
                                  why='lam ~ Beta(alpha, alpha)')
        self.mix_points = self._check_points(mix_points)
        self.seed = check_number(seed, 'model.seed', 0, integer=True,
                                 allow_none=True)
        self._rng: Optional[np.random.Generator] = None

    def _check_points(self, points) -> tuple:
        if isinstance(points, str) or not points or any(
                p not in MIX_POINTS for p in points):
            raise ValueError(
                'model.mix_points must be a non-empty list of '
                f'{MIX_POINTS}, got {points!r}')
        staged = [p for p in points if p != 'input']
        if staged:
            try:
                num_stages = stage_adapter(self.backbone).num_stages
            except TypeError as err:
                raise ValueError(
                    f'model.mix_points {staged} hook the stages of the '
                    f'backbone: {err} Or use mix_points=["input"].') from None
            names = ['stem'] + [f'layer{k + 1}' for k in range(num_stages)]
            for p in staged:
                if p not in names:
                    raise ValueError(
                        f'model.mix_points: {p!r} is not a stage of this '
                        f'backbone (points: {names})')
        return tuple(points)

    @property
    def rng(self) -> np.random.Generator:
        """This process's generator, created at the first training batch."""
        if self._rng is None:
            base = (self.seed if self.seed is not None else
                    torch.initial_seed() % 2**63)
            self._rng = np.random.default_rng([base, get_rank()])
        return self._rng

    def _hook(self, point: str, mix):
        """Register the hook that mixes at ``point``; returns its handle."""
        stages = stage_adapter(self.backbone)
        if point == 'stem':
            return stages.stage_input_module().register_forward_pre_hook(
                lambda module, args: (mix(args[0]), *args[1:]))

        def mix_output(module, args, out):
            # Swin's stages return (tokens, hw_shape).
            return (mix(out[0]), *out[1:]) if isinstance(out, tuple) \
                else mix(out)

        index = int(point[len('layer'):]) - 1
        return stages.stage_output_modules()[index].register_forward_hook(
            mix_output)

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """Mixed-label CE of a batch mixed at a random point.

        Args:
            inputs (Tensor): Normalised images, shape (N, C, H, W).
            data_samples (list[DataSample]): With ``gt_label``.
            mix (MixBatch, optional): Unused (always None here).

        Returns:
            dict[str, Tensor]: ``loss_mix_ce``, weighted.
        """
        labels = self.gt_labels(data_samples)
        point = self.mix_points[int(self.rng.integers(len(self.mix_points)))]
        draws: List[MixBatch] = []

        def mix_here(t: Tensor) -> Tensor:
            draws.append(draw_mixup(t, self.alpha, self.rng))
            return draws[-1].mixed

        if point == 'input':
            logits = self.head(self.extract_feat(mix_here(inputs)))
        else:
            handle = self._hook(point, mix_here)
            try:
                logits = self.head(self.extract_feat(inputs))
            finally:
                handle.remove()
        if len(draws) != 1:
            raise RuntimeError(
                f'ManifoldMixupClassifier mixed {len(draws)} times at '
                f'{point!r} in one forward pass; the backbone must run each '
                'stage once')
        return dict(loss_mix_ce=self.weighted(
            'mix_ce',
            loss_mix_ce([self.head.loss_module], [logits], labels,
                        draws[0].lam, draws[0].index)))
