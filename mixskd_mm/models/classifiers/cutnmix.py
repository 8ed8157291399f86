"""Cut^nMix: mixed-sample augmentation for online distillation.

Shen et al., "Mixed Sample Augmentation for Online Distillation", 2022,
https://arxiv.org/abs/2206.12370 (v1: "Online Distillation with Mixed Sample
Augmentation"). Neither the paper's construction nor code is public
(reference-methods.md section 3): this implements the design of its
abstract, every choice documented in :class:`CutnMixOnlineDistiller`.
"""
import copy
from typing import Dict, List, Optional, Set, Tuple

from mmengine.model import ModuleList
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.cutnmix_losses import (FEATURE_MODES, loss_ensemble_kd,
                                     loss_feat_mutual, loss_mutual_kd)
from ..losses.functional import loss_mix_ce
from ..utils.mixing import MixBatch
from ..utils.peer import PeerNetwork, run_peer
from .base import DistillClassifier

__all__ = ['CutnMixOnlineDistiller']


@MODELS.register_module()
class CutnMixOnlineDistiller(DistillClassifier):
    """Online distillation of ``num_peers`` students on a Cut^nMix batch.

    Peer 0 is ``backbone``/``neck``/``head``, the deployable model; peers
    1 .. P-1 are :class:`PeerNetwork` s of the same architecture in
    ``peers`` (an mmengine ``ModuleList``, so each is initialised by its own
    ``init_cfg``), dropped after training. No pre-trained teacher.

    Loss dict keys, each times its weight in ``loss_weights`` and computed
    by the function of the same name; ``z_p`` and ``F_p`` are peer ``p``'s
    logits and last backbone map on the mixed batch:

    - ``loss_mix_ce``: ``sum_p MixCE(z_p; y, y[index], lam)`` (``mix_ce``,
      1), each peer's through its head's configured ``loss``. The peers
      never see the originals, so there is no ``loss_ce``.
    - ``loss_mutual_kd``: ``sum_p mean_{q != p} KD_T(z_p <- sg z_q)``
      (``mutual_kd``, 1).
    - ``loss_feat_mutual``: ``sum_p mean_{q != p} D(F_p, sg F_q)``
      (``feat_mutual``, 100 for ``feat_mode='attention'``, 1 for 'mse').
    - ``loss_ensemble_kd``: ``sum_p KD_T(z_p <- sg mean_q z_q)``
      (``ensemble_kd``, 1).

    Design choices (the abstract only names the parts; each is configurable
    and none is checked against the paper):

    1. **The batch.** Every peer sees the *same* mixed batch, drawn once per
       step by ``MixSKDDataPreprocessor(mix_mode='cutnmix')``: one lambda
       ~ Beta(alpha, alpha) per batch sets the pasted area ``1 - lambda``,
       split over ``num_patches`` boxes of one partner (a shuffle of the
       batch) placed independently; lambda is then the area really left
       (see ``draw_cutnmix``). ``mix_mode='cutmix'`` gives the abstract's
       first step (CutMix in online distillation). Peers train only on the
       mixed batch (CutMix's ImageNet recipe, probability 1).
    2. **Labels.** Mixed-label CE with the area-corrected lambda; the CE is
       summed over peers so that each gets its stand-alone gradient.
    3. **Mutual logit learning.** Deep Mutual Learning with a temperature
       (``temperature``, default 3 as in ONE/KDCL): each peer learns from
       each other peer's detached logits, averaged over the others.
    4. **Feature mutual learning.** On the last backbone stage (the map the
       head pools), each peer towards each other peer's detached map,
       averaged over the others. ``feat_mode='attention'`` (default)
       compares spatial attention maps (FRSKD's AT, section 2.2): they do
       not depend on the channel order, which differs between independently
       initialised peers, and they show where the pasted patches are looked
       at; weight 100, FRSKD's beta. ``'mse'`` compares raw maps, weight 1.
    5. **Self-ensemble teacher.** The mean of all peers' logits (the
       student itself included), detached, distilled into every peer with
       the same T.

    Args:
        backbone (dict): Backbone config, shared by all peers; only its last
            output is used (``out_indices=(3, )`` keeps the deployable model
            identical to a plain ``ImageClassifier``).
        head (dict): Head config, shared by all peers.
        neck (dict): Neck config, shared by all peers. Defaults to
            ``GlobalAveragePooling``.
        num_peers (int): Number of peers P, at least 2. Defaults to 2.
        temperature (float): T of the mutual and ensemble KD. Defaults to 3.
        feat_mode (str): 'attention' or 'mse'. Defaults to 'attention'.
        loss_weights (dict, optional): Weights by term name (``mix_ce``,
            ``mutual_kd``, ``feat_mutual``, ``ensemble_kd``). Defaults to 1
            each, except ``feat_mutual`` (see ``loss_feat_mutual``).
        data_preprocessor (dict, optional): Defaults to
            ``MixSKDDataPreprocessor(mix_mode='cutnmix', alpha=1.0,
            num_patches=3)``; a dict without ``type`` gets these defaults.
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(
        mix_ce=1.0, mutual_kd=1.0, feat_mutual=100.0, ensemble_kd=1.0)
    DEFAULT_MIX = dict(mix_mode='cutnmix', alpha=1.0, num_patches=3)
    #: ``feat_mutual`` default per ``feat_mode``.
    FEAT_WEIGHTS = dict(attention=100.0, mse=1.0)

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 num_peers: int = 2,
                 temperature: float = 3.0,
                 feat_mode: str = 'attention',
                 loss_weights: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if not isinstance(num_peers, int) or num_peers < 2:
            raise ValueError('online distillation needs num_peers >= 2 '
                             f'(an int), got {num_peers!r}')
        if feat_mode not in FEATURE_MODES:
            raise ValueError(
                f'feat_mode must be one of {FEATURE_MODES}, got {feat_mode!r}')
        if not isinstance(backbone, dict):
            raise TypeError('CutnMixOnlineDistiller builds its peers from '
                            'the backbone config: pass `backbone` as a dict')
        if neck is not None and not isinstance(neck, dict):
            raise TypeError('CutnMixOnlineDistiller builds its peers from '
                            'the neck config: pass `neck` as a dict or None')
        super().__init__(
            backbone=copy.deepcopy(backbone),
            head=head,
            neck=copy.deepcopy(neck),
            loss_weights=loss_weights,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if 'feat_mutual' not in (loss_weights or {}):
            self.loss_weights['feat_mutual'] = self.FEAT_WEIGHTS[feat_mode]
        self.num_peers = num_peers
        self.temperature = temperature  # checked by DistillClassifier
        self.feat_mode = feat_mode

        # Peers 1 .. P-1: own weights, same architecture as peer 0.
        self.peers = ModuleList(
            PeerNetwork(
                backbone=copy.deepcopy(backbone),
                neck=copy.deepcopy(neck),
                head=copy.deepcopy(self.head_cfg))
            for _ in range(num_peers - 1))
        self.freeze_unweighted_parts()

    def parts_trained_by(self) -> Dict[str, Set[str]]:
        """Peers 1 .. P-1: the feature term reaches only their backbones.
        """
        logit_terms = {'mix_ce', 'mutual_kd', 'ensemble_kd'}
        parts = {}
        for i, peer in enumerate(self.peers):
            parts[f'peers.{i}.backbone'] = logit_terms | {'feat_mutual'}
            parts[f'peers.{i}.head'] = set(logit_terms)
            if peer.neck is not None:
                parts[f'peers.{i}.neck'] = set(logit_terms)
        return parts

    def forward_peers(self, x: Tensor) -> Tuple[List[Tensor], List[Tensor]]:
        """Every peer on the same batch.

        Args:
            x (Tensor): Images, shape (N, C, H, W).

        Returns:
            tuple: ``feats`` (P last maps, each (N, C_last, h, w)) and
            ``logits`` (P tensors (N, num_classes)), peer 0 first.
        """
        outs = [run_peer(self.backbone, self.neck, self.head, x)]
        outs += [peer(x) for peer in self.peers]
        feats, logits = zip(*outs)
        return list(feats), list(logits)

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The online-distillation objective on the Cut^nMix batch.

        Args:
            inputs (Tensor): Normalised originals (N, C, H, W); unused, the
                peers see only ``mix.mixed``.
            data_samples (list[DataSample]): With ``gt_label``.
            mix (MixBatch): The Cut^nMix batch (N, C, H, W), lambda (N, ) and
                partners (N, ) from ``MixSKDDataPreprocessor``.

        Returns:
            dict[str, Tensor]: The weighted terms, see the class docstring.
        """
        mix = self.require_mix(mix)
        labels = self.gt_labels(data_samples)
        feats, logits = self.forward_peers(mix.mixed)
        t = self.temperature
        head_losses = [self.head.loss_module]
        head_losses += [peer.head.loss_module for peer in self.peers]
        return dict(
            loss_mix_ce=self.weighted(
                'mix_ce',
                loss_mix_ce(head_losses, logits, labels, mix.lam, mix.index)),
            loss_mutual_kd=self.weighted('mutual_kd',
                                         loss_mutual_kd(logits, t)),
            loss_feat_mutual=self.weighted(
                'feat_mutual', loss_feat_mutual(feats, self.feat_mode)),
            loss_ensemble_kd=self.weighted('ensemble_kd',
                                           loss_ensemble_kd(logits, t)))
