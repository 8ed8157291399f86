"""The one atomic file writer: a killed write never replaces a good file.

Training checkpoints (:mod:`mixskd_mm.engine.atomic_checkpoint`),
``last_checkpoint`` and the exported backbone
(:func:`mixskd_mm.checkpoint.export_backbone`) are all written here. It lives
in the checkpoint layer, below the engine, because the engine imports this
package and not the other way round.

The data goes to a hidden temporary file in the target's folder
(``.NAME.<pid>.tmp``; the same folder, so that the rename stays on one file
system), is flushed and fsynced, and is renamed over the target with
:func:`os.replace`, which is atomic on POSIX file systems: the target is
either the old file or the complete new one. The folder is fsynced after the
rename so that the new name survives a power cut. The file is created with
``open()``, so its mode follows the user's umask (0644 under umask 022), as
``torch.save`` to a new path and mmengine's checkpoints do.
"""
import contextlib
import os
import os.path as osp
from typing import IO, Any, Callable

import torch

__all__ = ['atomic_torch_save']


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save(obj, path)`` through a temporary file and a rename.

    Args:
        obj (Any): What to save.
        path (str): The local target file; its folder is created.

    Raises:
        Exception: Whatever ``torch.save`` or the file system raises; the
            temporary file is removed and ``path`` is left untouched.
    """
    _replace_atomically(osp.expanduser(path), 'wb',
                        lambda f: torch.save(obj, f))


def _replace_atomically(path: str, mode: str,
                        write: Callable[[IO], None]) -> None:
    """Write ``path`` through a hidden temporary file, fsync and rename.

    ``write(f)`` fills the open temporary file; on any error it is removed
    and ``path`` keeps its old content.
    """
    path = osp.abspath(path)
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.tmp')
    try:
        with open(tmp, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Flush the rename to disk where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
