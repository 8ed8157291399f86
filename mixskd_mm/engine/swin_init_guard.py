"""Refuse ``StrictPretrained`` on mmdet's and mmseg's own SwinTransformer.

mmdet's and mmseg's ``SwinTransformer.init_weights`` do not run their
``init_cfg`` through mmengine's initializers: whenever ``init_cfg`` is set
they read ``init_cfg['checkpoint']`` themselves, convert the keys and load
with ``load_state_dict(strict=False)``. An ``init_cfg`` of type
``StrictPretrained`` is therefore never called there, and a checkpoint that
does not fit (a ConvNeXt export, a raw training checkpoint) leaves the
backbone randomly initialised with only a warning.

The ``swin_strict_pretrained_guard`` patch of :mod:`mixskd_mm.patches` wraps
those two ``init_weights`` methods with :func:`_guarded`: the pairing stops
with :class:`IgnoredInitializerError`, which names the cause and the fix
(mmpretrain's ``SwinTransformer``, whose state-dict keys are the same and
which runs ``init_cfg`` through mmengine, so StrictPretrained applies).
Any other ``init_cfg`` (``Pretrained``, None) keeps upstream's behaviour.
"""
import functools
from importlib.util import find_spec
from typing import Any, Callable, List

__all__ = ['IgnoredInitializerError', 'strict_pretrained_cfgs',
           'refuse_ignored_strict_pretrained', 'guarded_modules']

#: The modules of the classes whose ``init_weights`` the patch wraps.
GUARDED_MODULES = ('mmdet.models.backbones.swin',
                   'mmseg.models.backbones.swin')

_FIX = ("Fix: build mmpretrain's class instead, which has the same "
        'state-dict keys (the exported MixSKD/baseline backbone loads as '
        "is) and runs init_cfg through mmengine: backbone=dict(type="
        "'mmpretrain.SwinTransformer', arch='tiny', out_indices=(0, 1, 2, "
        "3), pad_small_map=True, drop_path_rate=..., init_cfg=dict(type="
        "'StrictPretrained', checkpoint=...)) with custom_imports=dict("
        "imports=['mixskd_mm', 'mmpretrain.models'], "
        'allow_failed_imports=False); configs/_base_/models/swin-t_dense.py '
        'of mixskd_mm has that backbone (the Mask R-CNN and UperNet Swin-T '
        'configs take it).')


def guarded_modules() -> List[str]:
    """The :data:`GUARDED_MODULES` whose package is installed.

    Both are dependencies; an environment without one still guards the
    other. Nothing is imported here.
    """
    return [m for m in GUARDED_MODULES
            if find_spec(m.split('.', 1)[0]) is not None]


class IgnoredInitializerError(RuntimeError):
    """An ``init_cfg`` that the module's own ``init_weights`` bypasses."""


def _is_strict_pretrained(init_type: Any) -> bool:
    # A scoped name ('mixskd_mm.StrictPretrained') is the same initializer.
    return (isinstance(init_type, str)
            and init_type.rsplit('.', 1)[-1] == 'StrictPretrained')


def strict_pretrained_cfgs(init_cfg: Any) -> List[dict]:
    """The entries of ``init_cfg`` (a dict or a list) of type
    StrictPretrained."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return [
        cfg for cfg in cfgs
        if isinstance(cfg, dict) and _is_strict_pretrained(cfg.get('type'))
    ]


def refuse_ignored_strict_pretrained(module: Any) -> None:
    """Raise if ``module`` would skip its StrictPretrained ``init_cfg``.

    Raises:
        IgnoredInitializerError: ``module.init_cfg`` holds an initializer
            of type StrictPretrained.
    """
    found = strict_pretrained_cfgs(getattr(module, 'init_cfg', None))
    if not found:
        return
    cls = type(module)
    checkpoint = found[0].get('checkpoint')
    raise IgnoredInitializerError(
        f"{cls.__module__}.{cls.__qualname__} got init_cfg type "
        f"'StrictPretrained' (checkpoint={checkpoint!r}), which it never "
        "runs: this class's init_weights loads init_cfg['checkpoint'] "
        'itself, with load_state_dict(strict=False) after convert_weights, '
        'so missing or unexpected keys would only be logged and training '
        'would start from a partly random backbone. ' + _FIX)


def _guarded(init_weights: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a SwinTransformer ``init_weights`` to refuse StrictPretrained."""

    @functools.wraps(init_weights)
    def guarded_init_weights(self: Any) -> Any:
        refuse_ignored_strict_pretrained(self)
        return init_weights(self)

    return guarded_init_weights
