"""DDGSD: self-distillation between two distortions of each image.

"Data-Distortion Guided Self-Distillation for Deep Neural Networks", Xu &
Liu, AAAI 2019, https://doi.org/10.1609/aaai.v33i01.33015565; settings of
the Self-KD-Lib release (``methods/ddsgd.py``, ``main.py --method DDGSD``).
"""
from typing import Dict, List, Optional

from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

from ..data_preprocessors.multi_view_data_preprocessor import \
    MultiViewClsDataPreprocessor
from ..losses.ddgsd_losses import loss_mmd, loss_mutual_kd
from ..losses.functional import loss_ce
from ..utils.mixing import MixBatch
from .base import DistillClassifier

__all__ = ['DDGSDClassifier']


@MODELS.register_module()
class DDGSDClassifier(DistillClassifier):
    """One network trained on two random distortions of every image.

    The train pipeline makes the views (mmpretrain's ``MultiView``, two
    runs of the augmentation); :class:`MultiViewClsDataPreprocessor` (the
    default preprocessor) normalises them and hands :meth:`loss` one batch
    (2N, C, H, W), view 1 first, which goes through the network in one
    forward pass (one set of BN batch statistics, as released). Prediction
    is the parent's, on one view.

    Loss dict keys, each times its weight in ``loss_weights``:

    - ``loss_ce``: the head's loss on both views with their labels, a mean
      over the 2N rows (``ce`` = 0.5: the released code halves that mean).
    - ``loss_mutual_kd``: :func:`loss_mutual_kd`, each view's logits learn
      from the other's detached ones, T = 4 (``mutual_kd`` = 1).
    - ``loss_mmd``: :func:`loss_mmd` between the views' pooled features
      (the neck's output) (``mmd`` = 5e-4).

    Args:
        backbone (dict): Backbone config.
        head (dict): Head config.
        neck (dict): Defaults to ``GlobalAveragePooling``.
        temperature (float): T of the KD terms. Defaults to 4.
        mmd_per_channel (bool): The per-channel linear MMD instead of the
            released scalar one (see :func:`loss_mmd`). Defaults to False.
        loss_weights (dict, optional): ``ce``, ``mutual_kd`` and ``mmd``.
            Defaults to ``dict(ce=0.5, mutual_kd=1.0, mmd=5e-4)``.
        data_preprocessor (dict, optional): Defaults to
            ``MultiViewClsDataPreprocessor``; a dict without ``type`` is
            merged into it.
        init_cfg (dict, optional): Defaults to None.
    """

    DEFAULT_LOSS_WEIGHTS = dict(ce=0.5, mutual_kd=1.0, mmd=5e-4)
    NUM_VIEWS = 2

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 temperature: float = 4.0,
                 mmd_per_channel: bool = False,
                 loss_weights: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None or 'type' not in data_preprocessor:
            data_preprocessor = dict(type='MultiViewClsDataPreprocessor',
                                     **(data_preprocessor or {}))
        super().__init__(
            backbone=backbone,
            head=head,
            neck=neck,
            loss_weights=loss_weights,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            trains_on_mixed=False)
        if not isinstance(self.data_preprocessor,
                          MultiViewClsDataPreprocessor):
            raise ValueError(
                'DDGSDClassifier trains on two views of each image: set '
                "model.data_preprocessor.type='MultiViewClsDataPreprocessor'"
                f', got {type(self.data_preprocessor).__name__}')
        if not isinstance(mmd_per_channel, bool):
            raise ValueError('model.mmd_per_channel must be True or False, '
                             f'got {mmd_per_channel!r}')
        self.temperature = temperature  # checked by DistillClassifier
        self.mmd_per_channel = mmd_per_channel

    def loss(self,
             inputs: Tensor,
             data_samples: List[DataSample],
             mix: Optional[MixBatch] = None) -> Dict[str, Tensor]:
        """The DDGSD objective on the two views.

        Args:
            inputs (Tensor): Both views, (2N, C, H, W), view-major.
            data_samples (list[DataSample]): N samples with ``gt_label``.
            mix (MixBatch, optional): Unused (always None here).

        Returns:
            dict[str, Tensor]: ``loss_ce``, ``loss_mutual_kd`` and
            ``loss_mmd``, weighted.
        """
        labels = self.gt_labels(data_samples)
        n = labels.size(0)
        if inputs.size(0) != self.NUM_VIEWS * n:
            raise ValueError(
                f'DDGSDClassifier needs {self.NUM_VIEWS} views of each of '
                f'the {n} images, got {inputs.size(0)} inputs: wrap the '
                "train pipeline's augmentation in dict(type='MultiView', "
                'num_views=2, transforms=[[...]]) before PackInputs')
        feats = self.extract_feat(inputs)  # neck output, (2N, D)
        logits = self.head(feats)  # (2N, num_classes)
        pooled = feats[-1] if isinstance(feats, tuple) else feats
        return dict(
            loss_ce=self.weighted(
                'ce',
                loss_ce([self.head.loss_module], [logits],
                        labels.repeat(self.NUM_VIEWS))),
            loss_mutual_kd=self.weighted(
                'mutual_kd',
                loss_mutual_kd(logits[:n], logits[n:], self.temperature)),
            loss_mmd=self.weighted(
                'mmd',
                loss_mmd(pooled[:n], pooled[n:], self.mmd_per_channel)))
