"""``torch.load`` that cannot run a checkpoint's code.

A ``.pth`` file is a pickle: ``torch.load(weights_only=False)`` calls
whatever functions it names, so a crafted file given as ``load_from``,
``--resume``, ``init_cfg.checkpoint`` or to ``tools/export_backbone.py``
could run any command. torch's ``weights_only=True`` unpickler only builds
tensors, containers and allow-listed globals. mmengine checkpoints need a
few more globals than torch allows by default; :data:`CHECKPOINT_GLOBALS`
lists exactly those, found by saving real checkpoints with an mmengine
``Runner`` (classifier training with a message hub, EMA, SGD, warm-up and
step schedulers, CPU AMP; ``torch.serialization.
get_unsafe_globals_in_checkpoint`` on the result):

- ``message_hub.log_scalars``: mmengine's ``HistoryBuffer``, whose state
  holds numpy arrays and its statistics methods, pickled as
  ``getattr(HistoryBuffer, 'mean')`` etc.;
- ``meta`` / ``message_hub.runtime_info``: numpy scalars (``seed``);
- numpy dtypes: ``numpy.dtype`` and, as the type of the object it builds,
  the numeric and bool dtype classes (``numpy.dtypes.Float64DType``, ...);
- an empty ``bytes`` object: torch saves with pickle protocol 2, which
  writes ``b''`` as a call ``builtins.bytes()`` (non-empty bytes go through
  ``_codecs.encode``, which torch allows). An empty numpy array holds
  ``b''`` as its data, so an empty ``HistoryBuffer()`` in the message hub
  needs it too.

The allow-list applies only during the load (``torch.serialization.
safe_globals``), not process-wide. ``builtins.getattr`` and
``builtins.bytes`` are not allowed as such: the names are mapped to
:func:`_history_buffer_method`, which returns only a registered statistics
method of ``HistoryBuffer``, and :func:`_empty_bytes`, which builds only
``b''`` (``bytes(n)`` would let a pickle allocate any amount of memory).

Full unpickling is an explicit opt-in: ``trust=True`` or the environment
variable ``MIXSKD_TRUST_CHECKPOINTS=1``; it logs a warning.
"""
import logging
import os
import pickle
import re
import struct
import zipfile
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log

from .errors import UntrustedCheckpointError, unreadable_checkpoint

__all__ = [
    'TRUST_ENV', 'CHECKPOINT_GLOBALS', 'trust_requested', 'safe_torch_load',
    'safe_load_url'
]

#: Environment variable that opts in to full unpickling.
TRUST_ENV = 'MIXSKD_TRUST_CHECKPOINTS'


_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_method(obj: Any, name: str) -> Any:
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    ``HistoryBuffer.__getstate__`` stores its ``_statistics_methods``
    (``min``, ``max``, ``current``, ``mean`` and any registered with
    ``HistoryBuffer.register_statistics``), which pickle writes as
    ``getattr(HistoryBuffer, name)``.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    # The defaults enter _statistics_methods only when a first
    # HistoryBuffer is built, which a fresh process has not done yet.
    names = set(HistoryBuffer._statistics_methods) | set(_DEFAULT_STATISTICS)
    if obj is HistoryBuffer and name in names:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({obj!r}, {name!r}) while unpickling: only '
        'the statistics methods of mmengine.logging.HistoryBuffer are '
        'allowed')


def _empty_bytes(*args: Any) -> bytes:
    """``bytes()`` as protocol 2 pickles ``b''``; nothing else.

    Raises:
        pickle.UnpicklingError: For any argument.
    """
    if args:
        raise pickle.UnpicklingError(
            f'refusing bytes{args!r} while unpickling: only bytes() (the '
            "empty b'' of pickle protocol 2) is allowed")
    return b''


def _numpy_globals() -> list:
    """numpy's array, scalar and dtype reconstruction, under the module
    names of numpy 2 (``numpy._core``) and numpy 1 (``numpy.core``) so
    that checkpoints written with either load."""
    multiarray = np._core.multiarray if hasattr(np, '_core') else \
        np.core.multiarray
    names = []
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        names += [(multiarray._reconstruct, f'{module}._reconstruct'),
                  (multiarray.scalar, f'{module}.scalar')]
    # Unpickling ``np.dtype('f8')`` BUILDs an instance of its class
    # (``numpy.dtypes.Float64DType``): the numeric and bool dtypes only.
    dtype_classes = [
        (type(np.dtype(code)), f'numpy.dtypes.{type(np.dtype(code)).__name__}')
        for code in '?bBhHiIlLqQefdgFDG'
    ]
    return names + dtype_classes + [(np.ndarray, 'numpy.ndarray'),
                                    (np.dtype, 'numpy.dtype')]


#: The globals an mmengine checkpoint holds beyond torch's defaults, as
#: ``(object, 'module.name')`` pairs for ``torch.serialization``.
CHECKPOINT_GLOBALS = _numpy_globals() + [
    (HistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'),
    (_history_buffer_method, 'builtins.getattr'),
    (_empty_bytes, 'builtins.bytes'),
]

_REFUSED_GLOBAL = re.compile(r'GLOBAL (\S+) (?:was not an allowed|whose)')


def trust_requested(trust: Optional[bool] = None) -> bool:
    """Whether full unpickling was asked for.

    Args:
        trust (bool, optional): An explicit choice; None reads
            ``MIXSKD_TRUST_CHECKPOINTS`` ('1', 'true', 'yes' mean yes).

    Returns:
        bool: True to unpickle with ``weights_only=False``.
    """
    if trust is not None:
        return bool(trust)
    value = os.environ.get(TRUST_ENV, '').strip().lower()
    return value in ('1', 'true', 'yes')


def _warn_trusted(source: str) -> None:
    print_log(
        f'{TRUST_ENV}=1 (or trust=True): loading {source} with '
        'torch.load(weights_only=False), which runs any code the pickle '
        'names. Do this only for checkpoints you made or trust.',
        logger='current', level=logging.WARNING)


def _refused_globals(source: Any, err: Exception) -> List[str]:
    """The globals that made a weights-only load fail, best effort."""
    names = []
    if isinstance(source, (str, os.PathLike)):
        try:
            with torch.serialization.safe_globals(CHECKPOINT_GLOBALS):
                names = sorted(
                    torch.serialization.get_unsafe_globals_in_checkpoint(
                        source))
        except Exception:  # not a zip checkpoint: read the error instead
            names = []
    match = _REFUSED_GLOBAL.search(str(err))
    # torch names a builtin without its module ('bytes' for builtins.bytes)
    if match and not any(n == match.group(1) or n.endswith(
            '.' + match.group(1)) for n in names):
        names.append(match.group(1))
    return names


def _untrusted_error(source: str, names: List[str],
                     err: Exception) -> UntrustedCheckpointError:
    what = (f'the global(s) {", ".join(names)}' if names else
            f'an object the allow-list refuses ({err})')
    return UntrustedCheckpointError(
        f'refusing to unpickle checkpoint {source}: it needs {what}, which '
        'mmengine checkpoints do not hold; unpickling it could run code. '
        f'If you made this file or trust its source, set {TRUST_ENV}=1 '
        '(or pass trust=True / --trust-checkpoint) to load it with full '
        'unpickling.')


def safe_torch_load(f: Any,
                    map_location: Any = None,
                    trust: Optional[bool] = None,
                    source: Optional[str] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and mmengine's globals.

    Args:
        f (str | PathLike | IO[bytes]): What :func:`torch.load` reads.
        map_location (Any): As in :func:`torch.load`. Defaults to None.
        trust (bool, optional): True unpickles fully (with a warning);
            None reads ``MIXSKD_TRUST_CHECKPOINTS``. Defaults to None.
        source (str, optional): How to name ``f`` in messages; defaults to
            ``f`` itself.

    Returns:
        Any: The loaded object.

    Raises:
        UntrustedCheckpointError: The pickle names a global outside
            :data:`CHECKPOINT_GLOBALS` and torch's defaults; the message
            names it, the file and the opt-in.
        CheckpointFormatError: ``f`` is a path and the file is truncated,
            corrupt or not a checkpoint; the message names the file, its
            size and the fix.
        Exception: Whatever :func:`torch.load` raises for a missing file,
            or for a bad stream that is not a path.
    """
    source = source or str(f)
    is_path = isinstance(f, (str, os.PathLike))
    try:
        if trust_requested(trust):
            _warn_trusted(source)
            return torch.load(f, map_location=map_location,
                              weights_only=False)
        with torch.serialization.safe_globals(CHECKPOINT_GLOBALS):
            return torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not trust_requested(trust) and not (is_path
                                               and _is_foreign(f)):
            raise _untrusted_error(source, _refused_globals(f, err),
                                   err) from err
        failure = err
    except FileNotFoundError:
        raise
    except Exception as err:  # torch raises many types for a bad file
        failure = err
    if not is_path or _file_is_sound(f, failure):
        raise failure
    raise unreadable_checkpoint(f, failure) from failure


def _head(path: Any) -> bytes:
    """The first 4 bytes of ``path`` (b'' when it cannot be read)."""
    try:
        with open(path, 'rb') as f:
            return f.read(4)
    except OSError:
        return b''


def _is_foreign(path: Any) -> bool:
    """Neither a zip (torch >= 1.6) nor a pickle (legacy ``torch.save``
    starts with protocol 2's ``0x80``): an HTML error page, a text file."""
    head = _head(path)
    return not (head == b'PK\x03\x04' or head[:1] == b'\x80')


def _file_is_sound(path: Any, err: Exception) -> bool:
    """Whether ``path`` reads completely, so that ``err`` is not about the
    file (a CUDA ``map_location`` without a GPU, for instance).

    A zip checkpoint (torch >= 1.6) is sound when its directory is there
    and every member passes its CRC check; a legacy pickle (protocol 2
    starts with ``0x80``) unless the error is one that a cut file gives.
    Anything else is not a checkpoint.
    """
    head = _head(path)
    try:
        if head == b'PK\x03\x04':
            if not zipfile.is_zipfile(path):
                return False  # cut before its central directory
            with zipfile.ZipFile(path) as archive:
                return archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError):
        return False
    return head[:1] == b'\x80' and not isinstance(
        err, (EOFError, pickle.UnpicklingError, KeyError, ValueError,
              IndexError, struct.error, UnicodeError))


def safe_load_url(url: str,
                  model_dir: Optional[str] = None,
                  map_location: Any = None,
                  progress: bool = True,
                  check_hash: bool = False,
                  file_name: Optional[str] = None,
                  weights_only: bool = True,
                  trust: Optional[bool] = None) -> Any:
    """:func:`torch.hub.load_state_dict_from_url` under the same rules.

    torch.hub defaults to ``weights_only=False``; mmengine's http(s) loader
    (and so ``torchvision://``, ``open-mmlab://``, ``mmcls://``) calls it
    without the argument. Here the download is unpickled like a local file:
    weights-only with :data:`CHECKPOINT_GLOBALS` unless trust is requested.
    ``weights_only`` is accepted for signature compatibility; only ``trust``
    (or the environment variable) turns full unpickling on.

    Returns:
        Any: The loaded object.
    """
    if trust_requested(trust):
        _warn_trusted(url)
        return torch.hub.load_state_dict_from_url(
            url, model_dir=model_dir, map_location=map_location,
            progress=progress, check_hash=check_hash, file_name=file_name,
            weights_only=False)
    try:
        with torch.serialization.safe_globals(CHECKPOINT_GLOBALS):
            return torch.hub.load_state_dict_from_url(
                url, model_dir=model_dir, map_location=map_location,
                progress=progress, check_hash=check_hash,
                file_name=file_name, weights_only=True)
    except pickle.UnpicklingError as err:
        raise _untrusted_error(url, _refused_globals(None, err), err) from err
