"""Virtual Softmax head.

"Virtual Class Enhanced Discriminative Embedding Learning" (Chen et al.,
NeurIPS 2018, https://arxiv.org/abs/1811.12611). In training, each sample
gets one extra, "virtual" logit ``||W_y|| * ||x||`` (``W_y`` the weight row
of its own class, ``x`` its feature) and the loss is the CE over the
``C + 1`` logits with the true class as target::

    z = [W x, ||W_{y}|| ||x||]   (N, C + 1),   L = CE(z, y)

The virtual class is never the target, so the loss pushes ``W_y . x`` above
``||W_y|| ||x||``, its bound, which makes the classes more compact. At
prediction the head is a plain linear classifier over the ``C`` classes.

Against Self-KD-Lib (``models/resnet.py``, ``loss_type='virtual_softmax'``):
the same logits and CE; the released code asks for a bias-free classifier
(``is_bias=False``) but that flag only reaches a branch head, so its ``fc``
keeps a bias. The paper's bound needs ``W_y . x`` alone: here ``bias=False``
by default, and ``bias=True`` gives the released layer.
"""
from typing import List, Tuple

import torch
import torch.nn as nn
from mmpretrain.evaluation import Accuracy
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor

__all__ = ['VirtualSoftmaxHead']


@MODELS.register_module()
class VirtualSoftmaxHead(LinearClsHead):
    """``LinearClsHead`` whose training loss adds the virtual class.

    Args:
        num_classes (int): Real classes ``C``.
        in_channels (int): Feature channels.
        bias (bool): Whether the classifier has a bias. Defaults to False
            (the paper's); True reproduces the released layer.
        **kwargs: ``LinearClsHead``'s (``loss``, ``topk``, ``cal_acc``,
            ``init_cfg``). The loss sees (N, C + 1) logits with hard labels.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 bias: bool = False,
                 **kwargs):
        super().__init__(
            num_classes=num_classes, in_channels=in_channels, **kwargs)
        if not isinstance(bias, bool):
            raise ValueError(f'model.head.bias must be True or False, got '
                             f'{bias!r}')
        if not bias:
            self.fc = nn.Linear(in_channels, num_classes, bias=False)

    def virtual_logits(self, feats: Tuple[Tensor], labels: Tensor) -> Tensor:
        """``[W x (+ b), ||W_y|| ||x||]``.

        Args:
            feats (tuple[Tensor]): The neck's outputs; the last is (N, D).
            labels (Tensor): Long labels (N, ).

        Returns:
            Tensor: (N, C + 1); column C is the virtual class.
        """
        x = self.pre_logits(feats)
        logits = self.fc(x)
        virtual = self.fc.weight[labels].norm(dim=1) * x.norm(dim=1)
        return torch.cat([logits, virtual.unsqueeze(1)], dim=1)

    def loss(self, feats: Tuple[Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """``{'loss': CE over the C + 1 logits}`` (plus the training
        accuracy over the real classes with ``cal_acc``)."""
        if 'gt_score' in data_samples[0]:
            raise ValueError(
                'VirtualSoftmaxHead needs hard labels: the virtual logit '
                'uses the weight row of each sample\'s own class, which a '
                'mixed (soft) label does not name; drop the batch augments '
                '(model.train_cfg.augments)')
        labels = torch.cat([s.gt_label for s in data_samples])
        logits = self.virtual_logits(feats, labels)
        losses = dict(loss=self.loss_module(
            logits, labels, avg_factor=logits.size(0), **kwargs))
        if self.cal_acc:
            acc = Accuracy.calculate(
                logits[:, :-1], labels, topk=self.topk)
            losses.update(
                {f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses
