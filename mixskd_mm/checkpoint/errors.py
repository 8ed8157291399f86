"""The errors of the checkpoint layer."""
import os
import os.path as osp
import pickle

__all__ = [
    'CheckpointFormatError', 'UntrustedCheckpointError',
    'unreadable_checkpoint'
]


class CheckpointFormatError(ValueError):
    """A checkpoint that cannot be read or does not hold what is expected."""


class UntrustedCheckpointError(CheckpointFormatError, pickle.UnpicklingError):
    """A checkpoint needs globals outside the allow-list to be unpickled.

    Both a :class:`CheckpointFormatError` (the tools report it like any
    unreadable checkpoint) and a ``pickle.UnpicklingError`` (what
    ``torch.load`` raises for the same file).
    """


def _first_sentence(err: BaseException) -> str:
    """``Type: first sentence`` of an error (torch's zip errors go on for a
    paragraph; an ``EOFError`` of a cut pickle says nothing)."""
    text = str(err).strip().split('. ')[0].rstrip('.')
    return f'{type(err).__name__}: {text}' if text else type(err).__name__


def unreadable_checkpoint(filename: str,
                          err: BaseException) -> CheckpointFormatError:
    """The error for a checkpoint file that torch cannot read.

    One message for every reader (``load_from``, ``--resume``,
    ``tools/test.py``, ``init_cfg``, ``tools/export_backbone.py``): the
    file, its size, what torch said and what to do. torch itself names no
    file (``PytorchStreamReader failed reading zip archive``).

    Args:
        filename (str): The checkpoint path.
        err (BaseException): What ``torch.load`` raised.

    Returns:
        CheckpointFormatError: To be raised ``from err``.
    """
    try:
        size = osp.getsize(os.fspath(filename))
        size_text = f'{size} bytes' + (', empty' if size == 0 else '')
    except (OSError, TypeError):
        size_text = 'size unknown'
    return CheckpointFormatError(
        f'cannot read checkpoint {os.fspath(filename)!r} ({size_text}): '
        f'{_first_sentence(err)}. The file is truncated, corrupt or not a '
        'PyTorch checkpoint (a save or copy that was cut short, or a full '
        'disk). Fix: save, export or copy it again, or pick an earlier '
        'checkpoint (e.g. the previous epoch_N.pth / iter_N.pth in its '
        'work_dir).')
