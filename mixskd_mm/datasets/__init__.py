"""Dataset-side guards (empty annotation files, unreadable images, labels
out of range) and the intra-class sampler of CS-KD and BAKE.

Importing this package changes nothing; ``import mixskd_mm`` applies both
guards once per process (:mod:`mixskd_mm.patches`: ``empty_dataset_error``,
``unreadable_image_error``, ``unreadable_label_map_error``); see
:mod:`.empty_dataset` and :mod:`.unreadable_images`.
"""
from .empty_dataset import *  # noqa: F401,F403
from .unreadable_images import *  # noqa: F401,F403
from .label_range import *  # noqa: F401,F403
from .intra_class_sampler import *  # noqa: F401,F403
