"""The self-teacher neck of MixSKD (Yang et al., ECCV 2022)."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import Tensor

from .bifpn import FRSKDBiFPN

__all__ = ['SelfTeacherNeck']

FUSIONS = ('concat', 'bifpn')


@MODELS.register_module()
class SelfTeacherNeck(BaseModule):
    """Aggregate multi-stage feature maps into the self-teacher's features.

    A linear classifier on top (the classifier's ``teacher_head``) turns the
    output into the self-teacher's logits.

    - ``fusion='concat'`` (default, the authors' code, reference-methods.md
      section 1.4): concatenate the maps along channels, one 1x1 convolution
      without bias to ``out_channels``, global average pooling. The maps must
      share their spatial size (MixSKD feeds the outputs of the three
      auxiliary branches and of the backbone's last stage).
    - ``fusion='bifpn'``: FRSKD-style top-down and bottom-up fusion
      (:class:`FRSKDBiFPN`) of maps of decreasing resolution (the backbone's
      four stages), then global average pooling of the deepest refined map.

    Args:
        in_channels (Sequence[int]): Channels of each input map.
        out_channels (int, optional): Output width for 'concat'. Defaults to
            ``in_channels[-1]``. For 'bifpn' it is ``width * in_channels[-1]``
            and may be omitted.
        fusion (str): 'concat' or 'bifpn'. Defaults to 'concat'.
        bifpn (dict): ``width`` and ``depth`` of the BiFPN. Defaults to
            ``dict(width=2, depth=2)``.
        init_cfg (dict, optional): Defaults to None: PyTorch's default
            initialisation of the 1x1 convolution (and of the BiFPN), as in
            the authors' self-teacher.

    Shapes:
        input: a sequence of (N, C_i, H_i, W_i).
        output: a one-tuple ``((N, out_channels), )``, what mmpretrain
        heads take.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: Optional[int] = None,
                 fusion: str = 'concat',
                 bifpn: dict = dict(width=2, depth=2),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if fusion not in FUSIONS:
            raise ValueError(
                f'fusion must be one of {FUSIONS}, got {fusion!r}')
        self.fusion = fusion
        self.in_channels = list(in_channels)
        if fusion == 'concat':
            self.out_channels = out_channels or self.in_channels[-1]
            self.reduce = nn.Conv2d(
                sum(self.in_channels), self.out_channels, 1, bias=False)
        else:
            self.bifpn = FRSKDBiFPN(self.in_channels, **bifpn)
            self.out_channels = self.bifpn.out_channels[-1]
            if out_channels not in (None, self.out_channels):
                raise ValueError(
                    f'with fusion="bifpn" the output has width * '
                    f'in_channels[-1] = {self.out_channels} channels; got '
                    f'out_channels={out_channels}')

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor]:
        if len(feats) != len(self.in_channels):
            raise ValueError(f'SelfTeacherNeck expects {len(self.in_channels)}'
                             f' maps, got {len(feats)}')
        if self.fusion == 'concat':
            sizes = {tuple(f.shape[-2:]) for f in feats}
            if len(sizes) != 1:
                raise ValueError(
                    'fusion="concat" needs maps of one spatial size, got '
                    f'{sorted(sizes)}; use fusion="bifpn" for maps of '
                    'different resolutions.')
            x = self.reduce(torch.cat(list(feats), dim=1))
        else:
            x = self.bifpn(feats)[-1]
        return (F.adaptive_avg_pool2d(x, 1).flatten(1), )
