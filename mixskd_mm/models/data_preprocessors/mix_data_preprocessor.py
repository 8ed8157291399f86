"""The data preprocessor that mixes training batches for distillation."""
from typing import Optional

import numpy as np
import torch
from mmengine.dist import get_rank
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import MODELS

from ...utils.validate import check_number
from ..utils.mixing import (MixBatch, check_mixed_fraction, check_num_patches,
                            draw_cutmix, draw_cutnmix, draw_mixup,
                            draw_partial_mixup)

__all__ = [
    'MixSKDDataPreprocessor', 'check_mix_settings', 'to_channels_last'
]

MIX_MODES = ('mixup', 'cutmix', 'cutnmix', 'partial_mixup')


@MODELS.register_module()
class MixSKDDataPreprocessor(ClsDataPreprocessor):
    """Normalise like ``ClsDataPreprocessor``, then mix the training batch.

    In training it draws the mixing decisions once per batch and returns them
    beside the originals, so the classifier can interpolate features and
    logits with the same lambda and partner:

    .. code-block:: python

        {'inputs': x,                # (N, C, H, W) normalised originals
         'data_samples': samples,    # with gt_label, untouched
         'mix': MixBatch(mixed,      # (N, C, H, W) mixed images
                         lam,        # (N, ) weight of each sample itself
                         index)}     # (N, ) partner of each sample

    Nothing about the draw is kept on the module. In evaluation it returns
    ``inputs`` and ``data_samples`` only, exactly as ``ClsDataPreprocessor``.
    Under DDP each process draws its own lambda and permutation from a
    generator seeded with the run's seed and the process rank.

    Args:
        mix_mode (str): 'mixup' (MixSKD, one lambda ~ Beta(alpha, alpha) per
            batch), 'cutmix' (paste one box; lambda from its area), 'cutnmix'
            (paste ``num_patches`` boxes) or 'partial_mixup' (MIX-KD: per-
            sample lambda, only ``mixed_fraction`` of the batch mixed).
            Defaults to 'mixup'.
        alpha (float): Beta(alpha, alpha) parameter, finite and > 0.
            Defaults to 0.2 (the MixSKD ImageNet recipe).
        num_patches (int): Boxes pasted by 'cutnmix'. Defaults to 3.
        mixed_fraction (float): Fraction of mixed samples for
            'partial_mixup', in [0, 1]. Defaults to 0.1.
        sample_with_replacement (bool): For 'partial_mixup', reproduce the
            released MIX-KD sampling (indices reset with replacement, so more
            samples stay mixed than asked). Defaults to False.
        seed (int, optional): Seed of this preprocessor's generator. Defaults
            to None: ``torch.initial_seed()`` when the first batch is mixed,
            i.e. the seed the Runner set.
        channels_last (bool): In training, hand over ``inputs`` and
            ``mix.mixed`` in channels-last memory format (same shape, NHWC
            strides). Evaluation keeps the default format, so that
            predictions stay bit-identical to a plain ``ImageClassifier``'s.
            Convolutions then run in that format, which is faster on CPUs
            (oneDNN) and on tensor-core GPUs: the small, wide maps of the
            deep stages and branches lose their layout conversions (README,
            "Speed", gives the measured step times). Defaults to False.
        **kwargs: ``ClsDataPreprocessor`` arguments (mean, std, to_rgb,
            pad_size_divisor, ...). ``batch_augments`` is rejected: mixing is
            this class's job.
    """

    def __init__(self,
                 mix_mode: str = 'mixup',
                 alpha: float = 0.2,
                 num_patches: int = 3,
                 mixed_fraction: float = 0.1,
                 sample_with_replacement: bool = False,
                 seed: Optional[int] = None,
                 channels_last: bool = False,
                 **kwargs):
        if kwargs.get('batch_augments'):
            raise ValueError(
                'MixSKDDataPreprocessor mixes batches itself: remove '
                '`batch_augments` (or `model.train_cfg.augments`) and set '
                '`mix_mode`/`alpha` on the preprocessor instead.')
        kwargs.pop('batch_augments', None)
        super().__init__(**kwargs)
        check_mix_settings(mix_mode, alpha, num_patches, mixed_fraction,
                           sample_with_replacement, seed, channels_last)
        self.mix_mode = mix_mode
        self.alpha = float(alpha)
        self.num_patches = int(num_patches)
        self.mixed_fraction = float(mixed_fraction)
        self.sample_with_replacement = sample_with_replacement
        self.seed = seed
        self.channels_last = channels_last
        self._rng: Optional[np.random.Generator] = None

    @property
    def rng(self) -> np.random.Generator:
        """This process's generator, created at the first training batch."""
        if self._rng is None:
            base = (self.seed if self.seed is not None else
                    torch.initial_seed() % 2**63)
            self._rng = np.random.default_rng([base, get_rank()])
        return self._rng

    def mix(self, inputs: torch.Tensor) -> MixBatch:
        """Draw and apply one mixing of ``inputs`` (N, C, H, W)."""
        if self.mix_mode == 'mixup':
            return draw_mixup(inputs, self.alpha, self.rng)
        if self.mix_mode == 'cutmix':
            return draw_cutmix(inputs, self.alpha, self.rng)
        if self.mix_mode == 'cutnmix':
            return draw_cutnmix(inputs, self.alpha, self.num_patches,
                                self.rng)
        return draw_partial_mixup(inputs, self.alpha, self.mixed_fraction,
                                  self.rng, self.sample_with_replacement)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        if training and self.channels_last:
            data['inputs'] = to_channels_last(data['inputs'])
        if training:
            mix = self.mix(data['inputs'])
            if self.channels_last:
                mix.mixed = to_channels_last(mix.mixed)
            data['mix'] = mix
        return data


def check_mix_settings(mix_mode, alpha, num_patches, mixed_fraction,
                       sample_with_replacement, seed, channels_last) -> None:
    """Refuse mixing settings that cannot draw, naming the key and range.

    Raises:
        ValueError: ``mix_mode`` unknown; ``alpha`` not a finite number > 0
            (Beta(alpha, alpha) needs it); ``num_patches`` not an int >= 1;
            ``mixed_fraction`` (a probability) outside [0, 1]; ``seed`` not
            an int >= 0 or None; a flag that is not a bool.
    """
    key = 'model.data_preprocessor'
    if mix_mode not in MIX_MODES:
        raise ValueError(
            f'{key}.mix_mode must be one of {MIX_MODES}, got {mix_mode!r}')
    check_number(alpha, f'{key}.alpha', 0, low_open=True,
                 why='lambda ~ Beta(alpha, alpha)')
    check_num_patches(num_patches, f'{key}.num_patches')
    check_mixed_fraction(mixed_fraction, f'{key}.mixed_fraction')
    check_number(seed, f'{key}.seed', 0, integer=True, allow_none=True)
    for name, flag in (('sample_with_replacement', sample_with_replacement),
                       ('channels_last', channels_last)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(
                f'{key}.{name} must be True or False, got {flag!r}')


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """``x`` (N, C, H, W) with channels-last strides; other ranks as is."""
    if x.dim() != 4:
        return x
    return x.contiguous(memory_format=torch.channels_last)
