"""The errors of the checkpoint layer."""
import pickle

__all__ = ['CheckpointFormatError', 'UntrustedCheckpointError']


class CheckpointFormatError(ValueError):
    """A checkpoint that cannot be read or does not hold what is expected."""


class UntrustedCheckpointError(CheckpointFormatError, pickle.UnpicklingError):
    """A checkpoint needs globals outside the allow-list to be unpickled.

    Both a :class:`CheckpointFormatError` (the tools report it like any
    unreadable checkpoint) and a ``pickle.UnpicklingError`` (what
    ``torch.load`` raises for the same file).
    """
