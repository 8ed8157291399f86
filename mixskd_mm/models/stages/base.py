"""What a method needs to know about the stages of a hierarchical backbone.

MixSKD, FRSKD, BYOT, DKS, SAD and manifold mixup read a backbone as a chain
of four stages, each halving the resolution of the one before. Their
auxiliary branches copy the later stages; their self-teachers read the stage
outputs; manifold mixup mixes a stage's output. A :class:`StageAdapter` says,
for one backbone family, how its stages run one after another and what a
copy of them consists of, so that those methods never look inside a
particular backbone class.

A stage is described by a :class:`Stage`: an optional ``entry`` (what turns
the previous stage's output into this stage's resolution and width: ConvNeXt's
downsample layer, Swin's patch merging), its ``blocks`` and an optional
``exit`` (MobileNetV2's final 1x1 convolution). Every one of them maps an
``(N, C, H, W)`` tensor to an ``(N, C', H', W')`` tensor, so that a copy of
the stages runs as a plain sequence and can be checkpointed block by block.

Adding a family: subclass :class:`StageAdapter`, implement ``supports``,
``out_indices``, ``channels`` and ``stages`` (and ``out_norm`` /
``checkpoint_backbone`` / ``stage_output_modules`` where the defaults do not
fit), and register it with ``@STAGE_ADAPTERS.register_module()``.
"""
from dataclasses import dataclass, field
from typing import FrozenSet, List, Optional, Tuple

import torch.nn as nn
from mmengine.registry import Registry

__all__ = ['Stage', 'StageAdapter', 'STAGE_ADAPTERS', 'stage_adapter']

#: The registered stage adapters, tried in registration order.
STAGE_ADAPTERS = Registry('stage adapter')


@dataclass
class Stage:
    """One stage of a backbone, as modules of the backbone (not copies).

    Attributes:
        blocks (list[nn.Module]): The stage's blocks, each
            (N, C, H, W) -> (N, C', H', W').
        entry (nn.Module, optional): Runs before the blocks and changes
            resolution and width (ConvNeXt's downsample layer, Swin's patch
            merging); None when the first block does it (ResNet).
        exit (nn.Module, optional): Runs after the blocks (MobileNetV2's
            last 1x1 convolution).
        shape_blocks (frozenset[int]): Indices of the blocks that change
            resolution or width: a shortened copy must keep them.
    """
    blocks: List[nn.Module]
    entry: Optional[nn.Module] = None
    exit: Optional[nn.Module] = None
    shape_blocks: FrozenSet[int] = field(default_factory=frozenset)

    def modules(self, num_blocks: Optional[int] = None) -> List[nn.Module]:
        """Entry, the first ``num_blocks`` blocks (all by default), exit."""
        blocks = self.blocks if num_blocks is None else self.blocks[:num_blocks]
        return [m for m in (self.entry, *blocks, self.exit) if m is not None]

    def light_depth(self) -> int:
        """Fewest leading blocks that still give the stage's output shape."""
        return max(self.shape_blocks, default=0) + 1


class StageAdapter:
    """How to run and copy the stages of one backbone family.

    Args:
        backbone (nn.Module): A built backbone that :meth:`supports`.
    """

    #: Short name used in messages and docs.
    family: str = ''

    def __init__(self, backbone: nn.Module):
        self.backbone = backbone

    @classmethod
    def supports(cls, backbone: nn.Module) -> bool:
        """Whether this adapter reads ``backbone``."""
        raise NotImplementedError

    @property
    def out_indices(self) -> Tuple[int, ...]:
        """The ``out_indices`` that make the backbone return every stage."""
        raise NotImplementedError

    @property
    def channels(self) -> List[int]:
        """Widths of the stage outputs, as the backbone returns them."""
        raise NotImplementedError

    @property
    def num_stages(self) -> int:
        return len(self.out_indices)

    def stages(self) -> List[Stage]:
        """The stages, in order, as views into the backbone."""
        raise NotImplementedError

    def out_norm(self, index: int) -> Optional[nn.Module]:
        """What the backbone applies to stage ``index``'s output before it
        returns it (ConvNeXt's and Swin's output norms), as an
        (N, C, H, W) -> (N, C, H, W) module; None when nothing."""
        return None

    def stage_output_modules(self) -> List[nn.Module]:
        """Per stage, the backbone module whose forward output (a tensor, or
        a tuple whose first item is the tensor) carries the stage's result
        on to the next stage: where manifold mixup mixes."""
        return [stage.modules()[-1] for stage in self.stages()]

    def stage_input_module(self) -> nn.Module:
        """The backbone module whose input is the stem's output, the input
        of the first stage's blocks."""
        return self.stages()[0].blocks[0]

    def checkpoint_backbone(self) -> None:
        """Make the backbone's own stages checkpoint block by block, with
        the same results (:mod:`..utils.checkpointing`)."""
        from ..utils.checkpointing import enable_checkpointing_forward
        for stage in self.stages():
            for module in stage.modules():
                enable_checkpointing_forward(module)

    def branch_init_cfg(self):
        """Init rules for fresh copies of the stages: the backbone's own
        per-layer rules (never a checkpoint load), else ``default_init_cfg``.
        """
        cfg = getattr(self.backbone, 'init_cfg', None)
        cfgs = cfg if isinstance(cfg, (list, tuple)) else [cfg]
        rules = [dict(c) for c in cfgs if isinstance(c, dict) and 'layer' in c]
        return rules or self.default_init_cfg()

    @classmethod
    def default_init_cfg(cls):
        """The family's usual init when the backbone names no rule."""
        return [
            dict(type='Kaiming', layer=['Conv2d']),
            dict(type='Constant', val=1, layer=['_BatchNorm'])
        ]

    def check_outputs(self, method: str) -> None:
        """Refuse a backbone that does not return every stage.

        Args:
            method (str): Who needs the stages, for the message.
        """
        got = tuple(getattr(self.backbone, 'out_indices', ()))
        if got != tuple(self.out_indices):
            raise ValueError(
                f'{method} reads every stage of the backbone: set '
                f'backbone.out_indices={tuple(self.out_indices)} for '
                f'{type(self.backbone).__name__}, got {got}')


def stage_adapter(backbone: nn.Module) -> StageAdapter:
    """The registered adapter that reads ``backbone``.

    Raises:
        TypeError: When no adapter supports the backbone's class; the
            message names the supported families and how to add one.
    """
    for cls in STAGE_ADAPTERS.module_dict.values():
        if cls.supports(backbone):
            return cls(backbone)
    families = ', '.join(
        f'{cls.family} ({name})'
        for name, cls in STAGE_ADAPTERS.module_dict.items())
    raise TypeError(
        f'{type(backbone).__name__} has no stage adapter: the stage-reading '
        f'methods support {families}. To add a family, subclass '
        'mixskd_mm.models.stages.StageAdapter and register it with '
        '@STAGE_ADAPTERS.register_module() (see mixskd_mm/models/stages/).')
