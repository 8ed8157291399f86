"""Activation checkpointing of residual blocks, exact for BatchNorm.

``torch.utils.checkpoint`` re-runs a block's forward in the backward pass to
recompute the activations it did not store. For a block with BatchNorm layers
in training mode that second forward would update the running mean and
variance (and ``num_batches_tracked``) a second time, so checkpointed training
would drift from plain training. mmpretrain's ``with_cp`` blocks have this
problem (and use the reentrant variant). Here every block runs through the
non-reentrant checkpoint with a ``context_fn`` whose *recompute* context
puts the block's BatchNorm statistics back as they were before the
recomputation: it normalises with the same batch statistics (so the
activations and gradients are bit-for-bit those of plain training) and the
running statistics end as after one plain step.

Memory: of each checkpointed block only its input stays alive until
backward; its internal activations exist again only while that block's
gradient is computed. Time: one extra forward of the checkpointed blocks.
"""
from contextlib import contextmanager, nullcontext
from functools import partial
from typing import Iterable, Iterator, Tuple

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint

__all__ = [
    'frozen_running_stats', 'checkpointed_blocks', 'enable_checkpointing',
    'enable_checkpointing_forward'
]


@contextmanager
def frozen_running_stats(module: nn.Module) -> Iterator[None]:
    """BatchNorm statistics in ``module`` are as before once this exits.

    The running mean, variance and ``num_batches_tracked`` of every
    BatchNorm layer are copied on entry and written back, in place, on exit;
    what runs inside computes exactly as it would without the context (a
    recomputation must save the same tensors as the original forward, so
    switching ``track_running_stats`` off would not do).
    """
    buffers = [
        b for m in module.modules() if isinstance(m, _BatchNorm)
        for b in (m.running_mean, m.running_var, m.num_batches_tracked)
        if b is not None
    ]
    saved = [b.clone() for b in buffers]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, value in zip(buffers, saved):
                b.copy_(value)


def _contexts(block: nn.Module) -> Tuple[object, object]:
    """(forward context, recompute context) for ``checkpoint``."""
    return nullcontext(), frozen_running_stats(block)


def checkpointed_blocks(blocks: Iterable[nn.Module], x: Tensor) -> Tensor:
    """Run ``blocks`` in sequence, each under activation checkpointing.

    Only when gradients are being recorded; otherwise (``torch.no_grad``,
    inference) the blocks run plainly.

    Args:
        blocks (Iterable[nn.Module]): E.g. the blocks of a ResNet stage, each
            mapping one tensor to one tensor.
        x (Tensor): The first block's input, e.g. (N, C, H, W).

    Returns:
        Tensor: The last block's output.
    """
    for block in blocks:
        if torch.is_grad_enabled():
            x = checkpoint(
                block,
                x,
                use_reentrant=False,
                context_fn=partial(_contexts, block))
        else:
            x = block(x)
    return x


class _CheckpointedForward:
    """A stage's ``forward`` that checkpoints its blocks (picklable)."""

    def __init__(self, stage: nn.Sequential):
        self.stage = stage

    def __call__(self, x: Tensor) -> Tensor:
        return checkpointed_blocks(self.stage, x)


def enable_checkpointing(stage: nn.Sequential) -> None:
    """Make ``stage`` checkpoint each of its blocks, in place.

    For stages whose ``forward`` belongs to someone else (the backbone's
    ``ResLayer``s, called by ``ResNet.forward``): the instance's ``forward``
    becomes :func:`checkpointed_blocks` over its children. The module tree
    and the state dict keys do not change; a deep copy or a pickled model
    keeps the behaviour.

    Args:
        stage (nn.Sequential): A sequence of single-tensor blocks.

    Raises:
        TypeError: If ``stage`` is not an ``nn.Sequential``.
    """
    if not isinstance(stage, nn.Sequential):
        raise TypeError(
            'enable_checkpointing wraps the blocks of an nn.Sequential stage '
            f'(a ResNet ResLayer); got {type(stage).__name__}')
    stage.forward = _CheckpointedForward(stage)


class _CheckpointedCall:
    """A module's own ``forward`` run under checkpointing (picklable)."""

    def __init__(self, module: nn.Module):
        self.module = module

    def __call__(self, *args, **kwargs):
        forward = type(self.module).forward
        if not torch.is_grad_enabled():
            return forward(self.module, *args, **kwargs)
        return checkpoint(
            forward,
            self.module,
            *args,
            use_reentrant=False,
            context_fn=partial(_contexts, self.module),
            **kwargs)


def enable_checkpointing_forward(module: nn.Module) -> None:
    """Make one block checkpoint its own forward, in place.

    Like :func:`enable_checkpointing` but for a single block whose forward
    takes any arguments (a Swin block's ``(tokens, hw_shape)``): the
    instance's ``forward`` runs the class's under the exact checkpoint of
    this module. Applying it twice changes nothing.
    """
    if not isinstance(module.__dict__.get('forward'), _CheckpointedCall):
        module.forward = _CheckpointedCall(module)
