"""The linear warm-up of the MixSKD authors' scripts as an mmengine scheduler.

Self-KD-Lib's ``utils.adjust_lr`` sets, before optimizer step ``t`` of the
warm-up (``t = 0 .. W - 1``, ``W`` = warm-up epochs x iterations per epoch),

    lr_t = base_lr * (t + 1) / W,

so the first step already trains at ``base_lr / W`` and the last one at
``base_lr``. mmengine's ``LinearLR`` interpolates from ``start_factor`` at
``t = 0`` to 1 at ``t = W - 1`` (its ``total_iters = end - begin - 1``); with
``start_factor = 1 / W`` it is exactly that formula. ``W`` depends on the
length of an epoch, which a config cannot know, so :class:`LinearWarmupLR`
takes the start factor from the number of steps it runs.
"""
from mmengine.optim import LinearLR
from mmengine.registry import PARAM_SCHEDULERS

__all__ = ['LinearWarmupLR']


@PARAM_SCHEDULERS.register_module()
class LinearWarmupLR(LinearLR):
    """``lr_t = lr * (t + 1) / (end - begin)``, steps ``begin .. end - 1``.

    Use it with ``by_epoch=True, convert_to_iter_based=True`` for a warm-up
    over whole epochs updated every iteration (the MixSKD recipes), or with
    ``by_epoch=False`` and iteration bounds.

    Args:
        optimizer (Optimizer or OptimWrapper): The wrapped optimizer.
        begin (int): First step of the warm-up. Defaults to 0.
        end (int): Step after the last one; must be finite and
            ``> begin``.
        **kwargs: Other ``LinearLR`` arguments except the factors.
    """

    def __init__(self, optimizer, begin: int = 0, end: int = None, **kwargs):
        for key in ('start_factor', 'end_factor'):
            if key in kwargs:
                raise TypeError(
                    f'LinearWarmupLR computes {key} itself (1 / number of '
                    f'warm-up steps, then 1); use LinearLR to set it')
        if end is None or end <= begin or end == float('inf'):
            raise ValueError(
                f'LinearWarmupLR needs a finite end > begin, got begin='
                f'{begin}, end={end}')
        super().__init__(
            optimizer,
            start_factor=1.0 / (end - begin),
            end_factor=1.0,
            begin=begin,
            end=end,
            **kwargs)
