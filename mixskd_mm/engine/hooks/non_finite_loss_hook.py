"""Stop training at the first non-finite loss, naming the term and cause.

Without it a run whose loss turns NaN (a learning rate far too high, a zero
temperature, corrupt input) logs ``loss: nan`` for the rest of the schedule,
saves NaN checkpoints, evaluates to chance and exits 0.

Cost: none per iteration. mmengine's ``RuntimeInfoHook`` (priority
VERY_HIGH) already copies every ``log_vars`` value to the host
(``MessageHub.update_scalar`` calls ``.item()``); this hook (priority HIGH,
so after it and before ``EMAHook``, ``LoggerHook`` and ``CheckpointHook``)
reads the total ``loss`` back from the message hub as a Python float. Only
when it is not finite does it look at the terms, the model and the batch.

Mixed precision:

- fp32, bf16 (``CPUAmpOptimWrapper``, ``AmpOptimWrapper(dtype='bfloat16')``):
  the optimizer has already applied the non-finite gradients when the hook
  sees the loss, so the weights are lost: stop at once.
- fp16 ``AmpOptimWrapper``: the loss scaler skips a step whose gradients
  are not finite and lowers the scale, so an overflow leaves the weights as
  they were and the run may recover. Gradient overflow with a finite loss is
  never looked at. A non-finite *loss* is tolerated (with a warning) for
  ``fp16_patience - 1`` consecutive iterations; the run stops at the
  ``fp16_patience``-th, or at once when the forward pass has already written
  non-finite values into the model's buffers (BatchNorm running statistics),
  which no skipped step can undo. Loss scaling protects the backward pass
  only: a forward pass that overflows float16 needs bf16 or fp32.
"""
import logging
import math
from numbers import Number
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook, RuntimeInfoHook
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from ...utils.model import unwrap_model

__all__ = ['NonFiniteLossError', 'NonFiniteLossHook', 'likely_causes']


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


def _uses_fp16_loss_scaling(optim_wrapper) -> bool:
    """Whether any wrapper is an ``AmpOptimWrapper`` autocasting to fp16."""
    wrappers = (optim_wrapper.values()
                if isinstance(optim_wrapper, OptimWrapperDict) else
                [optim_wrapper])
    return any(
        isinstance(w, AmpOptimWrapper)
        and w.cast_dtype in (None, torch.float16) for w in wrappers)


def _bad_temperatures(model: torch.nn.Module) -> List[str]:
    """``name=value`` for every numeric ``*temperature*`` attribute <= 0."""
    found = []
    for prefix, module in unwrap_model(model).named_modules():
        for key, value in vars(module).items():
            if 'temperature' in key.lower() and isinstance(
                    value, Number) and not value > 0:
                key = key.lstrip('_')  # a property's storage
                name = f'{prefix}.{key}' if prefix else key
                found.append(f'model.{name}={value}')
    return found


def _zero_std(model: torch.nn.Module) -> bool:
    """Whether the data preprocessor normalises by a zero std."""
    std = getattr(getattr(unwrap_model(model), 'data_preprocessor', None), 'std',
                  None)
    return isinstance(std, torch.Tensor) and bool((std == 0).any())


def _non_finite_inputs(data_batch) -> bool:
    """Whether a floating-point input tensor of the batch is not finite."""
    inputs = data_batch.get('inputs') if isinstance(data_batch,
                                                    dict) else None
    tensors = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    return any(
        isinstance(t, torch.Tensor) and t.is_floating_point()
        and not bool(torch.isfinite(t).all()) for t in tensors)


def _non_finite_buffers(model: torch.nn.Module) -> List[str]:
    """Names of floating-point buffers holding NaN or inf."""
    return [
        name for name, buf in unwrap_model(model).named_buffers()
        if buf.is_floating_point() and not bool(torch.isfinite(buf).all())
    ]


def _lr_text(optim_wrapper) -> str:
    """The current learning rate(s), e.g. '0.1' or 'a.lr=0.1, b.lr=0.01'."""
    lrs = optim_wrapper.get_lr()
    if set(lrs) == {'lr'}:
        return ', '.join(f'{v:g}' for v in lrs['lr'])
    return ', '.join(f'{k}=' + '/'.join(f'{v:g}' for v in vals)
                     for k, vals in lrs.items())


def likely_causes(runner, data_batch=None, first_iter: bool = False,
                  fp16: bool = False) -> List[str]:
    """The likely causes of a non-finite loss, most specific first.

    Args:
        runner (Runner): The runner (its model and optimizer are read).
        data_batch (dict, optional): The batch of the failing iteration.
        first_iter (bool): Whether no optimizer step preceded the loss.
        fp16 (bool): Whether training autocasts to float16.

    Returns:
        list[str]: One line per cause, each with what to change.
    """
    causes = [
        f'a zero/negative temperature ({t}): set it > 0'
        for t in _bad_temperatures(runner.model)
    ]
    if _zero_std(runner.model):
        causes.append('bad input normalisation: data_preprocessor.std has a '
                      'zero (division by zero): fix mean/std')
    if _non_finite_inputs(data_batch):
        causes.append('bad input data: this batch holds NaN/inf inputs')
    if fp16:
        causes.append(
            'fp16 overflow: the forward pass exceeds float16 (loss scaling '
            'protects gradients only): train in bf16 (optim_wrapper.dtype='
            "'bfloat16') or fp32, or lower the learning rate")
    if first_iter:
        causes.append(
            'the loss is not finite before any optimizer step, so not the '
            'learning rate: check the hyper-parameters (temperature, loss '
            'weights), the initial weights (load_from, init_cfg) and the '
            'input data')
    else:
        causes.append(
            f'learning rate too high (now {_lr_text(runner.optim_wrapper)}): '
            'lower it, lengthen the '
            'warm-up, or clip gradients (optim_wrapper.clip_grad='
            'dict(max_norm=...))')
    causes.append('bad input data: a corrupt image or label in the batch')
    return causes


def _describe_terms(terms: Dict[str, float]) -> str:
    """Name the non-finite loss terms (the ``log_vars`` keys).

    Args:
        terms (dict[str, float]): The values of the keys holding 'loss',
            the total ``loss`` included.

    Returns:
        str: E.g. ``'loss_kd=nan, loss_feat=inf (total loss=nan)'``.
    """
    bad = [f'{k}={v}' for k, v in terms.items()
           if k != 'loss' and not math.isfinite(v)]
    total = terms.get('loss')
    if not bad and total is not None and len(terms) > 1:
        return f'every term is finite but their sum is not (loss={total})'
    if not bad:
        return ', '.join(f'{k}={v}' for k, v in terms.items())
    return ', '.join(bad) + ('' if total is None else f' (total loss={total})')


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` at the first NaN/inf loss.

    Registered in mmengine's root ``HOOKS``, so
    ``custom_hooks=[dict(type='NonFiniteLossHook')]`` builds in mmpretrain,
    mmdet and mmseg configs. ``tools/train.py`` adds it to every config
    (:func:`mixskd_mm.engine.add_runtime_guard_hooks`).

    Args:
        fp16_patience (int): Under fp16 ``AmpOptimWrapper``, stop at this
            many consecutive non-finite losses (see the module docstring).
            Defaults to 10.
    """

    priority = 'HIGH'

    def __init__(self, fp16_patience: int = 10) -> None:
        if not isinstance(fp16_patience, int) or fp16_patience < 1:
            raise ValueError(
                f'fp16_patience must be an int >= 1, got {fp16_patience!r}')
        self.fp16_patience = fp16_patience
        self._fp16 = False
        self._streak = 0
        self._first_iter: Optional[int] = None
        self._from_hub = False
        self._by_epoch = False

    def before_train(self, runner) -> None:
        """Note the precision, the first iteration and the hook order."""
        self._fp16 = _uses_fp16_loss_scaling(runner.optim_wrapper)
        self._streak = 0
        self._first_iter = runner.iter
        self._by_epoch = isinstance(
            getattr(runner, 'train_loop', None), EpochBasedTrainLoop)
        kinds = [type(h) for h in runner.hooks]
        self._from_hub = (RuntimeInfoHook in kinds and self in runner.hooks
                          and kinds.index(RuntimeInfoHook) <
                          runner.hooks.index(self))

    def _value(self, runner, outputs: dict, key: str) -> float:
        """``outputs[key]`` as a float, from the message hub when synced."""
        if self._from_hub:
            buffer = runner.message_hub.log_scalars.get(f'train/{key}')
            if buffer is not None:
                return float(buffer.current())
        return float(outputs[key])

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[Dict] = None) -> None:
        """Check the loss of the iteration that just ran."""
        if not outputs:
            return
        keys = ['loss'] if 'loss' in outputs else [
            k for k in outputs if 'loss' in k
        ]
        if all(math.isfinite(self._value(runner, outputs, k)) for k in keys):
            self._streak = 0
            return
        terms = {
            k: self._value(runner, outputs, k)
            for k in outputs if 'loss' in k
        }
        bad = _describe_terms(terms)
        where = f'iteration {runner.iter + 1}' + (
            f' (epoch {runner.epoch + 1})' if self._by_epoch else '')
        if self._fp16:
            self._streak += 1
            buffers = _non_finite_buffers(runner.model)
            if not buffers and self._streak < self.fp16_patience:
                print_log(
                    f'non-finite loss at {where}: {bad}; the fp16 loss '
                    'scaler skips a step whose gradients are not finite '
                    f'(weights unchanged); {self._streak} in a row (stop at '
                    f'{self.fp16_patience})', logger='current',
                    level=logging.WARNING)
                return
        else:
            buffers = []
        causes = likely_causes(
            runner, data_batch,
            first_iter=runner.iter == self._first_iter, fp16=self._fp16)
        lines = [
            f'non-finite loss at {where}: {bad}. Training stopped so that no '
            'NaN weights are saved or evaluated; checkpoints in '
            f'{runner.work_dir} are from earlier iterations.'
        ]
        if self._fp16:
            lines.append(
                f'fp16: {self._streak} non-finite losses in a row'
                + (f'; non-finite buffers: {", ".join(buffers[:5])}'
                   if buffers else ''))
        lines.append('Likely causes, most specific first:')
        lines += [f'  - {cause}' for cause in causes]
        raise NonFiniteLossError('\n'.join(lines))
