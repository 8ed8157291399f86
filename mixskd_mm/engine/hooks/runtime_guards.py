"""Add the guard hooks to a config (what ``tools/train.py`` calls)."""
from typing import Tuple

from mmengine.config import Config

__all__ = ['GUARD_HOOKS', 'add_runtime_guard_hooks']

#: The hooks every training run gets, by registered type name.
GUARD_HOOKS: Tuple[str, ...] = ('NonFiniteLossHook', 'ResumeCheckHook',
                                 'LabelRangeCheckHook')


def _type_name(hook_cfg) -> str:
    """The hook's type name without a scope prefix ('' when unknown)."""
    hook_type = hook_cfg.get('type', '') if hasattr(hook_cfg, 'get') else ''
    if isinstance(hook_type, type):
        return hook_type.__name__
    return str(hook_type).split('.')[-1]


def add_runtime_guard_hooks(cfg: Config) -> Config:
    """Append each of :data:`GUARD_HOOKS` to ``cfg.custom_hooks`` if absent.

    A hook the config already lists (with its own arguments) is kept as it
    is, so a config can tune it, e.g. ``dict(type='NonFiniteLossHook',
    fp16_patience=20)``.

    Args:
        cfg (Config): The config; changed in place.

    Returns:
        Config: ``cfg``.
    """
    hooks = list(cfg.get('custom_hooks') or [])
    present = {_type_name(h) for h in hooks}
    hooks += [dict(type=name) for name in GUARD_HOOKS if name not in present]
    cfg.custom_hooks = hooks
    return cfg
