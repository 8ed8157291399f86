"""Dataset-side guards: empty annotation files, unreadable images, labels
out of range.

Importing this package (``import mixskd_mm`` does) applies both guards once
per process; see :mod:`.empty_dataset` and :mod:`.unreadable_images`.
"""
from .empty_dataset import *  # noqa: F401,F403
from .unreadable_images import *  # noqa: F401,F403
from .label_range import *  # noqa: F401,F403
