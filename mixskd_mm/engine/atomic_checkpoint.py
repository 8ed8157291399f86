"""Write checkpoints atomically: a killed write never replaces a good file.

mmengine 0.10.7's ``save_checkpoint`` (``mmengine/runner/checkpoint.py``),
which ``Runner.save_checkpoint`` and so ``CheckpointHook`` call, serialises
the checkpoint and writes the bytes straight to ``epoch_N.pth``. A job
killed during that write (time limit, pre-emption, out of memory) leaves a
truncated file under the final name, overwriting whatever was there, and a
later ``--resume`` or ``load_from`` fails on it ("PytorchStreamReader failed
reading zip archive").

:func:`atomic_save_checkpoint` writes a local checkpoint with
:func:`mixskd_mm.checkpoint.atomic_write.atomic_torch_save`: to a hidden
temporary file in the same folder (``.epoch_N.pth.<pid>.tmp``), fsynced and
renamed over the target with :func:`os.replace`, which is atomic on POSIX
file systems: the target is either the old file or the complete new one.
``CheckpointHook`` writes ``last_checkpoint`` only after the save returns, so
a cut-short write never becomes ``last_checkpoint``. The file's mode follows
the user's umask (0644 under umask 022), like mmengine's. Remote back ends
(``s3://``, ...) keep mmengine's writer. A killed write can leave the hidden ``.tmp`` file behind;
nothing reads it and it is safe to delete.

:func:`use_atomic_checkpoints` installs it in place of mmengine's function;
``import mixskd_mm`` does so.
"""
import os.path as osp
from typing import Optional

from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.runner import checkpoint as mm_checkpoint

# The writer lives in the checkpoint layer, which the export uses too and
# which must not import the engine; its names stay importable from here.
from ..checkpoint.atomic_write import _replace_atomically, atomic_torch_save

__all__ = ['atomic_save_checkpoint', 'atomic_torch_save',
           'use_atomic_checkpoints', 'write_last_checkpoint']

#: mmengine's own writer, kept for remote back ends.
_MMENGINE_SAVE = getattr(mm_checkpoint.save_checkpoint, '__wrapped__',
                         mm_checkpoint.save_checkpoint)


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
    Idempotent. ``import mixskd_mm`` does this (the ``atomic_checkpoints``
    patch of :mod:`mixskd_mm.patches`, which also undoes it).
    """
    # Imported here: mixskd_mm.patches imports this module when it applies.
    from ..patches import apply_patch
    apply_patch('atomic_checkpoints')


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
