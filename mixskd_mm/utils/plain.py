"""Turning configs, tensors and numpy values into plain Python data.

What the exported backbone's metadata and ``tools/test.py --out`` write must
load without this package: ``torch.load(weights_only=True)`` (the torch >= 2.6
default) refuses ConfigDicts and numpy scalars, and JSON/YAML dumpers refuse
tensors.
"""
from numbers import Number
from typing import Any

__all__ = ['to_plain']


def to_plain(value: Any) -> Any:
    """``value`` as dicts, lists, str, int, float, bool and None only.

    ConfigDicts become dicts (keys as str), tuples lists (YAML would tag a
    tuple as ``!!python/tuple``), tensors and numpy arrays or scalars their
    ``tolist()``, other numbers floats; anything else its ``str``.

    Args:
        value (Any): A config value, a metric, ...

    Returns:
        Any: The plain counterpart of ``value``.
    """
    if hasattr(value, 'to_dict'):  # mmengine's ConfigDict
        value = value.to_dict()
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if hasattr(value, 'tolist'):  # numpy arrays/scalars and tensors
        return to_plain(value.tolist())
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, Number):
        return value if isinstance(value, int) else float(value)
    return str(value)
