"""A peer student for online distillation: backbone, neck and head."""
from typing import Optional, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor

__all__ = ['PeerNetwork', 'run_peer']


def run_peer(backbone: nn.Module, neck: Optional[nn.Module],
             head: nn.Module, x: Tensor) -> Tuple[Tensor, Tensor]:
    """One classifier's last feature map and logits.

    Args:
        backbone (nn.Module): Returns a tuple of feature maps.
        neck (nn.Module, optional): E.g. ``GlobalAveragePooling``.
        head (nn.Module): A linear head; it reads the last pooled map.
        x (Tensor): Images, shape (N, C, H, W).

    Returns:
        tuple: The backbone's last map (N, C_last, h, w) and the logits
        (N, num_classes).
    """
    feats = backbone(x)
    pooled = neck(feats) if neck is not None else feats
    return feats[-1], head(pooled)


@MODELS.register_module()
class PeerNetwork(BaseModule):
    """An extra peer: its own backbone, neck and head, built from configs.

    Peers are independent networks of one architecture; each gets its own
    random initialisation from the ``init_cfg`` of its parts when the
    enclosing model's ``init_weights`` runs (keep peers in an mmengine
    ``ModuleList`` so that it does).

    Args:
        backbone (dict): Backbone config.
        head (dict): Head config.
        neck (dict, optional): Neck config. Defaults to None.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """See :func:`run_peer`."""
        return run_peer(self.backbone, self.neck, self.head, x)
