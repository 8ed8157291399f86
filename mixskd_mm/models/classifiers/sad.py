"""SAD: self-attention distillation (Hou et al., ICCV 2019).

"Learning Lightweight Lane Detection CNNs by Self Attention Distillation",
https://arxiv.org/abs/1908.00821, in the classification form of
Self-KD-Lib's release (``methods/sad.py``, plain ``CIFAR_ResNet18``,
``main.py`` defaults, ``scripts/main_cifar.sh``).
"""
from typing import Dict, List, Optional

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..losses.functional import loss_ce
from ..losses.sad_losses import loss_sad
from ..stages import stage_adapter
from ..utils.mixing import MixBatch
from .base import DistillClassifier

__all__ = ['SADClassifier']


@MODELS.register_module()
class SADClassifier(DistillClassifier):
    """SAD classifier: each stage mimics the next stage's attention.

    No extra parts: the backbone's stages give the attention maps and the
    head the logits, so the trained model is a plain ``ImageClassifier``.

    Loss dict keys, each times its weight in ``loss_weights`` and computed
    by the function of the same name:

    - ``loss_ce``: ``CE(z, y)`` through the head's configured ``loss``
      (``ce``, 1).
    - ``loss_sad``: ``sum_m mean((A(S_m) - A(up(sg S_{m+1}))) ** 2)`` over
      consecutive stages, ``A`` the spatial softmax of the channel mean of
      squares, ``up`` bilinear upsampling of the deeper map to the shallower
      one's size (``sad``, 1000; ``losses/sad_losses.py``). It trains every
      stage but the last.

    Args:
        backbone (dict): A backbone with a stage adapter (ResNet family,
            ConvNeXt, Swin, MobileNetV2) with every stage in
            ``out_indices``, e.g. ``(0, 1, 2, 3)``.
        head (dict): The head, reading the last stage.
        neck (dict): Defaults to ``GlobalAveragePooling``.
        loss_weights (dict, optional): ``ce``, ``sad``. Defaults to
            ``dict(ce=1, sad=1000)``.
        data_preprocessor (dict, optional): A ``ClsDataPreprocessor`` (the
            default; SAD trains on the originals).
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(ce=1.0, sad=1000.0)

    def __init__(self,
                 backbone: dict,
                 head: dict,
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
            init_cfg=init_cfg,
            trains_on_mixed=False)
        stages = stage_adapter(self.backbone)
        if stages.num_stages < 2:
            raise ValueError(
                'SAD distils between consecutive stages: the backbone needs '
                f'at least two, {type(self.backbone).__name__} has '
                f'{stages.num_stages}')
        stages.check_outputs('SAD')

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The SAD objective on the originals.

        Args:
            inputs (Tensor): Normalised images, shape (N, C, H, W).
            data_samples (list[DataSample]): With ``gt_label``.
            mix: Unused (SAD does not mix).

        Returns:
            dict[str, Tensor]: The weighted terms, see the class docstring.
        """
        labels = self.gt_labels(data_samples)
        stages = self.backbone(inputs)  # (N, C_m, H_m, W_m) per stage
        logits = self.head(self.neck((stages[-1], )))
        return dict(
            loss_ce=self.weighted(
                'ce', loss_ce([self.head.loss_module], [logits], labels)),
            loss_sad=self.weighted('sad', loss_sad(stages)))
