"""Write checkpoints atomically: a killed write never replaces a good file.

mmengine 0.10.7's ``save_checkpoint`` (``mmengine/runner/checkpoint.py``),
which ``Runner.save_checkpoint`` and so ``CheckpointHook`` call, serialises
the checkpoint and writes the bytes straight to ``epoch_N.pth``. A job
killed during that write (time limit, pre-emption, out of memory) leaves a
truncated file under the final name, overwriting whatever was there, and a
later ``--resume`` or ``load_from`` fails on it ("PytorchStreamReader failed
reading zip archive").

:func:`atomic_save_checkpoint` writes a local checkpoint to a hidden
temporary file in the same folder (``.epoch_N.pth.<pid>.tmp``), flushes it to
disk and renames it over the target with :func:`os.replace`, which is atomic
on POSIX file systems: the target is either the old file or the complete new
one. ``CheckpointHook`` writes ``last_checkpoint`` only after the save
returns, so a cut-short write never becomes ``last_checkpoint``. The file is
created with ``open()``, so its mode follows the user's umask (0644 under
umask 022), like mmengine's. Remote back ends (``s3://``, ...) keep
mmengine's writer. A killed write can leave the hidden ``.tmp`` file behind;
nothing reads it and it is safe to delete.

:func:`use_atomic_checkpoints` installs it in place of mmengine's function;
``import mixskd_mm`` does so.
"""
import contextlib
import os
import os.path as osp
from typing import IO, Any, Callable, Optional

import torch
from mmengine import runner as mm_runner
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.runner import checkpoint as mm_checkpoint
from mmengine.runner import runner as mm_runner_module

__all__ = ['atomic_save_checkpoint', 'atomic_torch_save',
           'use_atomic_checkpoints', 'write_last_checkpoint']

#: mmengine's own writer, kept for remote back ends.
_MMENGINE_SAVE = getattr(mm_checkpoint.save_checkpoint, '__wrapped__',
                         mm_checkpoint.save_checkpoint)


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


def _is_local(filename: str, file_client_args: Optional[dict],
              backend_args: Optional[dict]) -> bool:
    """Whether mmengine would write ``filename`` with its LocalBackend."""
    if file_client_args is not None or str(filename).startswith('pavi://'):
        return False
    backend = get_file_backend(filename, backend_args=backend_args)
    return isinstance(backend, LocalBackend)


def atomic_save_checkpoint(checkpoint: dict,
                           filename: str,
                           file_client_args: Optional[dict] = None,
                           backend_args: Optional[dict] = None) -> None:
    """Drop-in for mmengine's ``save_checkpoint`` that writes atomically.

    Args:
        checkpoint (dict): The checkpoint (``meta``, ``state_dict``, ...).
        filename (str): Where to write it.
        file_client_args (dict, optional): As in mmengine (deprecated
            there); given, mmengine's writer is used.
        backend_args (dict, optional): As in mmengine; a non-local back end
            uses mmengine's writer.
    """
    if not _is_local(filename, file_client_args, backend_args):
        _MMENGINE_SAVE(checkpoint, filename, file_client_args=file_client_args,
                       backend_args=backend_args)
        return
    atomic_torch_save(checkpoint, filename)


atomic_save_checkpoint.__wrapped__ = _MMENGINE_SAVE


def use_atomic_checkpoints() -> None:
    """Make mmengine save checkpoints with :func:`atomic_save_checkpoint`.

    Replaces ``save_checkpoint`` where mmengine looks it up: in
    ``mmengine.runner.checkpoint`` (strategies), ``mmengine.runner.runner``
    (``Runner.save_checkpoint``) and ``mmengine.runner`` (``CheckpointHook``).
    Idempotent.
    """
    for module in (mm_checkpoint, mm_runner_module, mm_runner):
        module.save_checkpoint = atomic_save_checkpoint


use_atomic_checkpoints()


def write_last_checkpoint(work_dir: str, checkpoint_path: str) -> None:
    """Point ``<work_dir>/last_checkpoint`` at ``checkpoint_path`` atomically.

    mmengine truncates and rewrites the file in place, so a job killed in
    between leaves it empty and ``--resume`` starts from scratch. This writes
    a temporary file and renames it over the old one.

    Args:
        work_dir (str): The run's work_dir (a local folder).
        checkpoint_path (str): What ``--resume`` should load.
    """
    _replace_atomically(osp.join(work_dir, 'last_checkpoint'), 'w',
                        lambda f: f.write(checkpoint_path))
