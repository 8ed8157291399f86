"""Mixed precision on CPU (see --amp in tools/train.py).

mmengine 0.10.7's ``AmpOptimWrapper.__init__`` asserts that CUDA, NPU, MLU or
MUSA is available (mmengine/optim/optimizer/amp_optimizer_wrapper.py), so
``--amp`` cannot run on a CPU machine. :class:`CPUAmpOptimWrapper` runs the
forward pass under ``torch.autocast('cpu', dtype=torch.bfloat16)`` instead.
bfloat16 has float32's exponent range, so no loss scaling is needed.
:func:`enable_amp` picks the right wrapper for the machine.

Limitation (VERIFIED with mmdet 3.3.0 Faster R-CNN): mmcv 2.1.0's CPU kernels
(``nms``, ``roi_align``, ...) take float32 only and are not autocast-aware,
so a model that calls them in its training step fails under CPU AMP with
"RuntimeError: expected scalar type Float but found BFloat16". mmpretrain
classifiers and mmseg EncoderDecoder models (DeepLabV3) train.
"""
import logging
from contextlib import contextmanager
from typing import Iterator, Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

__all__ = ['CPUAmpOptimWrapper', 'enable_amp']

#: Arguments of ``AmpOptimWrapper`` that :class:`CPUAmpOptimWrapper` lacks.
_CUDA_AMP_ONLY_KEYS = ('loss_scale', 'dtype', 'use_fsdp')


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """An :class:`OptimWrapper` that trains in bfloat16 autocast on the CPU.

    Registered in mmengine's root ``OPTIM_WRAPPERS``, so
    ``optim_wrapper=dict(type='CPUAmpOptimWrapper', optimizer=...)`` builds
    from mmpretrain, mmdet and mmseg configs alike. Gradients and the
    optimizer step stay in float32; only the forward pass (data
    preprocessor, model and loss) is autocast.

    Args:
        dtype (str | torch.dtype): The autocast dtype; only bfloat16 is
            supported, since float16 needs loss scaling that this wrapper
            does not do. Defaults to 'bfloat16'.
        **kwargs: Passed to :class:`mmengine.optim.OptimWrapper`
            (``optimizer``, ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(
                f'CPUAmpOptimWrapper supports dtype bfloat16 only, got '
                f'{dtype!r}: float16 needs loss scaling, which CPU autocast '
                'does not provide. Remove `dtype` from optim_wrapper, or use '
                'AmpOptimWrapper on a GPU.')
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """Autocast to bfloat16 on the CPU, keeping gradient accumulation.

        Args:
            model (nn.Module): The model being trained.

        Yields:
            None: Inside the autocast (and, during gradient accumulation,
            ``no_sync``) context.
        """
        with super().optim_context(model), torch.autocast(
                device_type='cpu', dtype=self.cast_dtype):
            yield


def enable_amp(cfg: Config, cuda: Optional[bool] = None) -> str:
    """Switch ``cfg.optim_wrapper`` to mixed precision for this machine.

    On CUDA it becomes mmengine's ``AmpOptimWrapper`` with
    ``loss_scale='dynamic'`` (as mmdet's ``--amp``); without CUDA it becomes
    :class:`CPUAmpOptimWrapper` and the ``AmpOptimWrapper``-only keys
    (``loss_scale``, ``dtype``, ``use_fsdp``) are dropped with a warning. A
    config that already uses either wrapper is adapted the same way, so an
    ``AmpOptimWrapper`` config also trains on a CPU machine.

    Args:
        cfg (Config): The full config; ``cfg.optim_wrapper`` is changed in
            place.
        cuda (bool, optional): Whether CUDA is used. Defaults to None, which
            means ``torch.cuda.is_available()``.

    Returns:
        str: The chosen wrapper type, 'AmpOptimWrapper' or
        'CPUAmpOptimWrapper'.

    Raises:
        ValueError: If the config has no ``optim_wrapper`` or uses a wrapper
            type other than OptimWrapper, AmpOptimWrapper and
            CPUAmpOptimWrapper.
    """
    if cuda is None:
        cuda = torch.cuda.is_available()
    wrapper = cfg.get('optim_wrapper')
    if wrapper is None:
        raise ValueError(
            'AMP needs an `optim_wrapper` in the config (e.g. '
            "optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1))).")
    current = wrapper.get('type', 'OptimWrapper')
    known = ('OptimWrapper', 'AmpOptimWrapper', 'CPUAmpOptimWrapper')
    if current not in known:
        raise ValueError(
            f'AMP can only replace one of {known}, but optim_wrapper.type is '
            f'{current!r}. Drop --amp, or make that wrapper do mixed '
            'precision itself.')
    if cuda:
        wrapper['type'] = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
        print_log('AMP on CUDA: optim_wrapper.type = AmpOptimWrapper',
                  logger='current')
        return 'AmpOptimWrapper'
    dropped = {k: wrapper.pop(k) for k in _CUDA_AMP_ONLY_KEYS if k in wrapper}
    wrapper['type'] = 'CPUAmpOptimWrapper'
    msg = ('AMP without CUDA: optim_wrapper.type = CPUAmpOptimWrapper '
           '(bfloat16 autocast on the CPU)')
    if dropped:
        msg += f'; dropped the AmpOptimWrapper-only arguments {dropped}'
    print_log(msg, logger='current',
              level=logging.WARNING if dropped else logging.INFO)
    if cfg.get('default_scope') == 'mmdet':
        print_log(
            'CPU AMP with an mmdet model: mmcv\'s CPU ops (nms, roi_align) '
            'take float32 only, so detectors that call them while training '
            '(e.g. Faster R-CNN) fail with "expected scalar type Float but '
            'found BFloat16". Drop --amp on a CPU machine if that happens.',
            logger='current', level=logging.WARNING)
    return 'CPUAmpOptimWrapper'
