"""DKS: deeply-supervised knowledge synergy (Sun et al., CVPR 2019).

"Deeply-supervised Knowledge Synergy", https://arxiv.org/abs/1906.00675.
Follows Self-KD-Lib's release (``methods/dks.py``, ``models/resnet.py``
``CIFAR_ResNet18_dks``, ``main.py`` defaults, ``scripts/main_cifar.sh``).
"""
from typing import Dict, List, Optional

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.dks_losses import loss_synergy_kd
from ..losses.functional import loss_ce
from ..utils.mixing import MixBatch
from .deep_supervision import DeeplySupervisedClassifier

__all__ = ['DKSClassifier']


@MODELS.register_module()
class DKSClassifier(DeeplySupervisedClassifier):
    """DKS classifier: all classifiers teach each other.

    Auxiliary branches after stages 2 and 3 (``branch_stages=(1, 2)``): the
    first copies stage 3 with one block and stage 4 with two, the second
    copies stage 4 with two blocks (``branch_blocks=((1, 2), (2, ))``, the
    released ``branch_layers=[[1, 2], [2]]``); each ends at the final
    resolution and width with its own linear head (a copy of ``head``)
    after the shared neck. The branches and their heads are dropped after
    training: prediction uses only ``backbone``, ``neck`` and ``head``.

    Loss dict keys, each times its weight in ``loss_weights`` and computed
    by the function of the same name:

    - ``loss_ce``: ``sum_k CE(z_k, y)`` over the backbone's head and every
      branch head, through each head's configured ``loss`` (``ce``, 1).
    - ``loss_synergy_kd``: ``sum_{j != k} KD_T(z_j <- sg z_k)`` over every
      ordered pair of classifiers (``synergy_kd``, 1; T = 4;
      ``losses/dks_losses.py``).

    Args:
        backbone (dict): A backbone with a stage adapter (ResNet family,
            ConvNeXt, Swin, MobileNetV2) with every stage in
            ``out_indices``, e.g. ``(0, 1, 2, 3)``.
        head (dict): The backbone's head; each branch head is a copy.
        neck (dict): Pooling before every head. Defaults to
            ``GlobalAveragePooling``.
        branch_stages (Sequence[int]): 0-based stages the branches read.
            Defaults to ``(1, 2)``.
        branch_blocks (Sequence[Sequence[int]]): Blocks per copied stage,
            per branch. Defaults to ``((1, 2), (2, ))``.
        with_cp (bool): Exact activation checkpointing of the branches.
            Defaults to False.
        temperature (float): T of ``loss_synergy_kd``. Defaults to 4.
        loss_weights (dict, optional): ``ce``, ``synergy_kd``. Defaults to
            1 each.
        data_preprocessor (dict, optional): A ``ClsDataPreprocessor`` (the
            default; DKS trains on the originals).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(ce=1.0, synergy_kd=1.0)
    BRANCH_TERMS = {'ce', 'synergy_kd'}
    BRANCH_HEAD_TERMS = {'ce', 'synergy_kd'}
    DEFAULT_BRANCH_BLOCKS = ((1, 2), (2, ))

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The DKS objective on the originals.

        Args:
            inputs (Tensor): Normalised images, shape (N, C, H, W).
            data_samples (list[DataSample]): With ``gt_label``.
            mix: Unused (DKS does not mix).

        Returns:
            dict[str, Tensor]: The weighted terms, see the class docstring.
        """
        labels = self.gt_labels(data_samples)
        _, logits = self.forward_paths(inputs)
        return dict(
            loss_ce=self.weighted(
                'ce', loss_ce(self.loss_modules(), logits, labels)),
            loss_synergy_kd=self.weighted(
                'synergy_kd', loss_synergy_kd(logits, self.temperature)))
