"""Feature discriminators and gradient reversal for MixSKD's optional
adversarial term (reference-methods.md section 1.5, row 7)."""
import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

__all__ = ['grad_reverse', 'FeatureDiscriminator']


class _GradReverse(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, coeff):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.coeff * grad, None


def grad_reverse(x: Tensor, coeff: float = 1.0) -> Tensor:
    """Identity forward; multiplies the gradient by ``-coeff`` backward
    (Ganin & Lempitsky, ICML 2015)."""
    return _GradReverse.apply(x, coeff)


class FeatureDiscriminator(BaseModule):
    """GAP, Linear(C, hidden), ReLU, Linear(hidden, 1): one logit telling
    an interpolated feature map (label 1) from a mixup-image one (label 0).

    Args:
        in_channels (int): C of the feature maps.
        hidden_channels (int): Defaults to 128 (the authors' code).

    Shapes:
        input: (N, C, H, W). output: (N, ).
    """

    def __init__(self, in_channels: int, hidden_channels: int = 128,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.mlp = nn.Sequential(
            nn.Linear(in_channels, hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(x.mean(dim=(2, 3))).squeeze(1)
