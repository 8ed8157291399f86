"""A backbone with auxiliary classifiers on its stages (deep supervision).

What BYOT and DKS share, as released in Self-KD-Lib (``models/resnet.py``,
``CIFAR_ResNet18_byot`` / ``CIFAR_ResNet18_dks``): auxiliary branches after
some stages (:class:`StageCopyBranch`), each ending at the final resolution
and width, pooled by the shared neck and read by its own head. Only the
losses differ; subclasses implement :meth:`loss`.
"""
import copy
from typing import Dict, List, Optional, Sequence, Set, Tuple

from mmengine.model import ModuleList
from mmpretrain.registry import MODELS
from torch import Tensor

from ...utils.validate import check_number
from ..stages import stage_adapter
from ..utils.stage_copy_branch import build_stage_copy_branches
from .base import DistillClassifier

__all__ = ['DeeplySupervisedClassifier']


class DeeplySupervisedClassifier(DistillClassifier):
    """Backbone, head and auxiliary branch classifiers (not registered).

    Args:
        backbone (dict): A backbone with a stage adapter
            (:mod:`mixskd_mm.models.stages`) returning every stage, e.g.
            ``out_indices=(0, 1, 2, 3)``.
        head (dict): The backbone's head; each branch head is a copy.
        neck (dict): Pooling before every head. Defaults to
            ``GlobalAveragePooling``.
        branch_stages (Sequence[int]): 0-based indices of the stages whose
            outputs the branches read, each before the last stage.
        branch_blocks (Sequence[Sequence[int]], optional): Per branch, the
            blocks of each stage it copies (:class:`StageCopyBranch`).
            Defaults to the method's released ``DEFAULT_BRANCH_BLOCKS``.
        with_cp (bool): Exact activation checkpointing of the branches.
        temperature (float): KD temperature T.
        loss_weights (dict, optional): By term name.
        data_preprocessor (dict, optional): Defaults to
            ``ClsDataPreprocessor`` (these methods train on the originals).
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 branch_stages: Sequence[int] = (1, 2),
                 branch_blocks: Optional[Sequence[Sequence[int]]] = None,
                 with_cp: bool = False,
                 temperature: float = 4.0,
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
        self.temperature = temperature
        name = type(self).__name__
        stages = stage_adapter(self.backbone)
        stages.check_outputs(name)
        num_stages = stages.num_stages
        starts = tuple(
            check_number(k, f'model.branch_stages[{i}]', 0, num_stages - 2,
                         integer=True,
                         why='a branch reads a stage before the last one')
            for i, k in enumerate(branch_stages))
        if not starts or len(set(starts)) != len(starts):
            raise ValueError(
                f'model.branch_stages must name distinct stages, got '
                f'{tuple(branch_stages)}')
        if not isinstance(with_cp, bool):
            raise TypeError(f'with_cp must be True or False, got {with_cp!r}')
        self.branch_stages = starts
        if branch_blocks is None:
            branch_blocks = self.DEFAULT_BRANCH_BLOCKS
        self.branches = build_stage_copy_branches(
            self.backbone, starts, branch_blocks, with_cp=with_cp)
        self.branch_heads = ModuleList(
            MODELS.build(copy.deepcopy(self.head_cfg))
            for _ in self.branches)
        self.freeze_unweighted_parts()

    #: The released blocks per copied stage, per branch (subclasses set it).
    DEFAULT_BRANCH_BLOCKS: Tuple[Tuple[int, ...], ...] = ()
    #: Loss weight names whose terms reach the branches / branch heads.
    BRANCH_TERMS: Set[str] = set()
    BRANCH_HEAD_TERMS: Set[str] = set()

    def parts_trained_by(self) -> Dict[str, Set[str]]:
        return dict(
            branches=set(self.BRANCH_TERMS),
            branch_heads=set(self.BRANCH_HEAD_TERMS))

    def forward_paths(self,
                      x: Tensor) -> Tuple[List[Tensor], List[Tensor]]:
        """Run the backbone, the branches and every head.

        Args:
            x (Tensor): Images, shape (N, C, H, W).

        Returns:
            tuple: ``maps``, the backbone's last stage then each branch's
            output, all (N, C_last, H_last, W_last); ``logits``, in the same
            order, each (N, num_classes). Index 0 is the deployable path.
        """
        stages = self.backbone(x)
        maps = [stages[-1]] + [
            branch(stages[k])
            for branch, k in zip(self.branches, self.branch_stages)
        ]
        heads = [self.head] + list(self.branch_heads)
        logits = [head(self.neck((m, ))) for head, m in zip(heads, maps)]
        return maps, logits

    def loss_modules(self) -> list:
        """The heads' loss modules, in the order of :meth:`forward_paths`."""
        return [h.loss_module for h in [self.head, *self.branch_heads]]
