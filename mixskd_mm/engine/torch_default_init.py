"""PyTorch's own initialisation as an mmengine ``init_cfg`` type.

The MixSKD authors' models keep what PyTorch's layers draw when they are
built: ``nn.Linear`` and ``nn.Conv2d`` weights from
``kaiming_uniform_(a=sqrt(5))`` (std ``1 / sqrt(3 * fan_in)``) and biases
from ``U(-1 / sqrt(fan_in), 1 / sqrt(fan_in))``, BN weight 1 and bias 0.
mmpretrain's heads draw ``Normal(0, 0.01)`` instead and its ResNets use
Kaiming fan-out for every convolution. ``dict(type='TorchDefault',
layer='Linear')`` in an ``init_cfg`` redraws the named layers with their
own ``reset_parameters()``, so a recipe states the authors' initialisation
explicitly and a ``--cfg-options`` switch (``...init_cfg.type=Normal``)
brings mmpretrain's back.
"""
from mmengine.model.weight_init import BaseInit, update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS

__all__ = ['TorchDefaultInit']


def _class_names(module) -> set:
    return {cls.__name__ for cls in type(module).__mro__}


@WEIGHT_INITIALIZERS.register_module(name='TorchDefault')
class TorchDefaultInit(BaseInit):
    """Call ``reset_parameters()`` of every module of the given layer types.

    Args:
        layer (str | list[str]): Class names (or base-class names, e.g.
            ``'_BatchNorm'``) of the layers to redraw.

    Raises:
        ValueError: Without ``layer`` (a whole-module reset would also undo
            the other ``init_cfg`` entries' work).
    """

    def __init__(self, layer=None, **kwargs):
        if not layer:
            raise ValueError(
                "TorchDefault needs `layer` (e.g. layer='Linear' or "
                "layer=['Conv2d', 'Linear'])")
        super().__init__(layer=layer, **kwargs)

    def __call__(self, module) -> None:
        wanted = set(self.layer)
        for m in module.modules():
            if wanted & _class_names(m) and hasattr(m, 'reset_parameters'):
                m.reset_parameters()
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return (f'{type(self).__name__}: PyTorch reset_parameters() of '
                f'{self.layer}')
