"""BYOT: be your own teacher (Zhang et al., ICCV 2019).

"Be Your Own Teacher: Improve the Performance of Convolutional Neural
Networks via Self Distillation", https://arxiv.org/abs/1905.08094. Follows
Self-KD-Lib's release (``methods/byot.py``, ``models/resnet.py``
``CIFAR_ResNet18_byot``, ``main.py`` defaults, ``scripts/main_cifar.sh``).
"""
from typing import Dict, List, Optional

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.byot_losses import loss_hint, loss_kd
from ..losses.functional import loss_ce
from ..utils.mixing import MixBatch
from .deep_supervision import DeeplySupervisedClassifier

__all__ = ['BYOTClassifier']


@MODELS.register_module()
class BYOTClassifier(DeeplySupervisedClassifier):
    """BYOT classifier: the deepest classifier teaches shallow branches.

    Auxiliary branches after stages 2 and 3 (``branch_stages=(1, 2)``) copy
    the later stages one block each (``branch_blocks=((1, 1), (1, ))``, the
    released ``branch_layers=[[1, 1], [1]]``) and end at the final
    resolution and width, each with its own linear head (a copy of
    ``head``) after the shared neck. The branches and their heads are
    dropped after training: prediction uses only ``backbone``, ``neck`` and
    ``head``.

    Loss dict keys, each times its weight in ``loss_weights`` and computed
    by the function of the same name (``losses/byot_losses.py``):

    - ``loss_ce``: ``sum_k CE(z_k, y)`` over the backbone's head and every
      branch head, through each head's configured ``loss`` (``ce``, 1).
    - ``loss_kd``: ``sum_i KD_T(z_i <- sg z_0)``, the deepest classifier's
      soft targets for every branch (``kd``, 1; T = 4).
    - ``loss_hint``: ``sum_i mean((F_i - sg F_0) ** 2)`` between each
      branch's output map and the final-stage map (``hint``, 0.05: the
      released ``0.5 * 0.1``).

    The released weights: CE and KD weight 1 (not the paper's ``1 - alpha``
    and ``alpha``), hint ``0.5 * 0.1``; T = 4 (``main.py --T``).

    Args:
        backbone (dict): A backbone with a stage adapter (ResNet family,
            ConvNeXt, Swin, MobileNetV2) with every stage in
            ``out_indices``, e.g. ``(0, 1, 2, 3)``.
        head (dict): The backbone's head; each branch head is a copy.
        neck (dict): Pooling before every head. Defaults to
            ``GlobalAveragePooling``.
        branch_stages (Sequence[int]): 0-based stages the branches read.
            Defaults to ``(1, 2)``; ``(0, 1, 2)`` (with three block lists)
            puts a classifier on every stage, as in the paper.
        branch_blocks (Sequence[Sequence[int]]): Blocks per copied stage,
            per branch. Defaults to ``((1, 1), (1, ))``.
        with_cp (bool): Exact activation checkpointing of the branches.
            Defaults to False.
        temperature (float): T of ``loss_kd``. Defaults to 4.
        loss_weights (dict, optional): ``ce``, ``kd``, ``hint``. Defaults to
            ``dict(ce=1, kd=1, hint=0.05)``.
        data_preprocessor (dict, optional): A ``ClsDataPreprocessor`` (the
            default; BYOT trains on the originals).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(ce=1.0, kd=1.0, hint=0.05)
    BRANCH_TERMS = {'ce', 'kd', 'hint'}
    BRANCH_HEAD_TERMS = {'ce', 'kd'}
    DEFAULT_BRANCH_BLOCKS = ((1, 1), (1, ))

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The BYOT objective on the originals.

        Args:
            inputs (Tensor): Normalised images, shape (N, C, H, W).
            data_samples (list[DataSample]): With ``gt_label``.
            mix: Unused (BYOT does not mix).

        Returns:
            dict[str, Tensor]: The weighted terms, see the class docstring.
        """
        labels = self.gt_labels(data_samples)
        maps, logits = self.forward_paths(inputs)
        return dict(
            loss_ce=self.weighted(
                'ce', loss_ce(self.loss_modules(), logits, labels)),
            loss_kd=self.weighted(
                'kd', loss_kd(logits[1:], logits[0], self.temperature)),
            loss_hint=self.weighted('hint', loss_hint(maps[1:], maps[0])))
