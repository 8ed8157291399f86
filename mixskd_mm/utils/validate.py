"""The one check of a numeric setting, with an error that names the key.

Temperatures, loss weights and mixing settings are all checked here, so that
every refused value reads the same: ``KEY must be a finite number > 0, got
VALUE: WHY``.
"""
import math
from typing import Optional, Union

import numpy as np

__all__ = ['check_number', 'is_number']


def is_number(value) -> bool:
    """Whether ``value`` is a real number; bools are not (``True`` would
    pass as 1 where a flag was meant)."""
    return (isinstance(value, (int, float, np.number))
            and not isinstance(value, (bool, np.bool_)))


def _wanted(low, high, low_open, integer, allow_none) -> str:
    """'a finite number > 0', 'an int >= 1', 'a finite number in [0, 1]'."""
    what = 'an int' if integer else 'a finite number'
    if low is not None and high is not None:
        what += f' in {"(" if low_open else "["}{low}, {high}]'
    elif low is not None:
        what += f' {">" if low_open else ">="} {low}'
    elif high is not None:
        what += f' <= {high}'
    return what + (' or None' if allow_none else '')


def check_number(value,
                 key: str,
                 low: Optional[float] = None,
                 high: Optional[float] = None,
                 *,
                 low_open: bool = False,
                 integer: bool = False,
                 allow_none: bool = False,
                 why: str = '') -> Union[int, float, None]:
    """``value`` as a float (an int with ``integer``), or a ``ValueError``.

    Args:
        value: The setting as the config gave it.
        key (str): Its config key for the message, e.g.
            ``'model.temperature'``.
        low (float, optional): The lowest value allowed. Defaults to None.
        high (float, optional): The highest value allowed (inclusive).
            Defaults to None.
        low_open (bool): ``low`` itself is refused. Defaults to False.
        integer (bool): Only ints (Python or numpy) are allowed.
            Defaults to False.
        allow_none (bool): None is allowed and returned. Defaults to False.
        why (str): The reason for the range, appended to the message.
            Defaults to ''.

    Returns:
        int | float | None: The checked value.

    Raises:
        ValueError: ``value`` is not a number (of the kind asked for), is
            NaN or infinite, or lies outside the range.
    """
    if value is None and allow_none:
        return None
    ok = is_number(value) and (not integer
                               or isinstance(value, (int, np.integer)))
    if ok:
        # math.isfinite overflows on huge ints, which are finite anyway.
        ok = ((isinstance(value, (int, np.integer)) or math.isfinite(value))
              and (low is None or value > low or
                   (value == low and not low_open))
              and (high is None or value <= high))
    if ok:
        return int(value) if integer else float(value)
    got = repr(value)
    if not is_number(value):
        got += f' ({type(value).__name__})'
    wanted = _wanted(low, high, low_open, integer, allow_none)
    raise ValueError(f'{key} must be {wanted}, got {got}' +
                     (f': {why}' if why else ''))
