"""Name an unreadable image, or skip it with a warning on request.

mmcv 2.1.0's ``LoadImageFromFile`` (the loader of every mmpretrain, mmdet
and mmseg pipeline here) stops on a zero-byte file with
``cv2.error ... (-215:Assertion failed) !buf.empty() in function 'imdecode_'``
and on a truncated one with ``AssertionError: failed to load image``, the
first naming no file. Its ``ignore_empty=True`` option makes the transform
return None, so that mmengine's ``BaseDataset.__getitem__`` draws another
sample in training, but it skips silently.

The ``unreadable_image_error`` patch of :mod:`mixskd_mm.patches` (applied
by ``import mixskd_mm``) wraps ``LoadImageFromFile.transform`` (and so
every subclass that does not replace it) so that

- an unreadable image raises :class:`UnreadableImageError` naming the file,
  why it cannot be read (missing, empty, cannot be decoded) and the fix;
- with ``ignore_empty=True`` each skipped file is logged as a warning with
  the number skipped so far in this process (data-loader workers count
  separately);
- any other error (a missing ``img_path`` key, a bug in a subclass) passes
  through unchanged, with or without ``ignore_empty``: only the errors of
  :data:`READ_ERRORS` and mmcv's "failed to load image" assertion mean that
  the file is unreadable.

Skipping is for training: in validation and testing mmengine refuses a
sample that its pipeline dropped.

mmseg's ``LoadAnnotations`` reads label maps in mmcv's
``LoadAnnotations.transform``, which it inherits: that method is wrapped too
(``unreadable_label_map_error``), so an unreadable label map raises
:class:`UnreadableImageError` naming it (there is no skip option for label
maps). Errors that are not about the
label map file pass through unchanged.
"""
import functools
import logging
import os.path as osp
from typing import Callable, List, Optional, Tuple, Type

import cv2
import mmcv
from mmcv.transforms import LoadAnnotations, LoadImageFromFile
from mmengine.logging import print_log

__all__ = ['UnreadableImageError', 'guard_image_loading', 'skipped_images',
           'SKIP_HINT', 'READ_ERRORS', 'is_read_error']

#: How to turn skipping on, quoted by the error.
SKIP_HINT = ('set ignore_empty=True in the LoadImageFromFile step of the '
             'train pipeline (e.g. --cfg-options '
             'train_dataloader.dataset.pipeline.0.ignore_empty=True); each '
             'skipped file is then logged and another sample is drawn')

#: Files skipped by this process (``ignore_empty=True``), in order.
_SKIPPED: List[str] = []


class UnreadableImageError(OSError):
    """An image file of a dataset cannot be read or decoded."""


def _read_errors() -> Tuple[Type[BaseException], ...]:
    """What reading and decoding an image raise when the file is bad.

    mmengine's file back ends raise ``OSError`` (missing, permissions,
    ``urllib``'s ``URLError``); mmcv's ``imfrombytes`` raises ``cv2.error``
    (empty buffer), PIL's ``UnidentifiedImageError`` and truncation errors
    (``OSError``) or ``DecompressionBombError``, and ``ValueError``
    (tifffile's ``TiffFileError``, an unsupported image).
    """
    errors: List[Type[BaseException]] = [OSError, ValueError, cv2.error]
    try:
        from PIL import Image
        errors.append(Image.DecompressionBombError)
    except ImportError:  # pillow is optional for mmcv's cv2 back end
        pass
    return tuple(errors)


#: The exceptions that mean "this file cannot be read or decoded".
READ_ERRORS = _read_errors()

#: How mmcv's ``assert img is not None`` after decoding begins.
_MMCV_DECODE_ASSERT = 'failed to load image'


def is_read_error(error: BaseException) -> bool:
    """Whether ``error`` says that an image file cannot be read or decoded.

    Args:
        error (BaseException): What the loading transform raised.

    Returns:
        bool: True for :data:`READ_ERRORS` and for mmcv's assertion that
        the decoder returned no image; False for anything else (a
        ``KeyError``, an unrelated ``AssertionError``), which must
        propagate.
    """
    if isinstance(error, AssertionError):
        return str(error).startswith(_MMCV_DECODE_ASSERT)
    return isinstance(error, READ_ERRORS)


def skipped_images() -> List[str]:
    """The image files this process has skipped so far (a copy)."""
    return list(_SKIPPED)


def why_unreadable(path: str, error: Optional[BaseException]) -> str:
    """Say why ``path`` could not be loaded.

    Args:
        path (str): The image path (local, or a backend URI).
        error (BaseException, optional): What the loader raised; None when
            the decoder returned no image.

    Returns:
        str: 'does not exist', 'is empty (0 bytes)' or 'cannot be decoded
        as an image (truncated or corrupt ...)'.
    """
    if '://' not in str(path):
        if not osp.exists(path):
            return 'does not exist'
        if osp.isfile(path) and osp.getsize(path) == 0:
            return 'is empty (0 bytes)'
    detail = 'the decoder returned no image' if error is None else (
        f'{type(error).__name__}: {str(error).strip().splitlines()[-1]}'
        if str(error).strip() else type(error).__name__)
    return f'cannot be decoded as an image (truncated or corrupt; {detail})'


def _guarded(transform: Callable) -> Callable:
    """Wrap ``LoadImageFromFile.transform`` (see the module docstring)."""

    @functools.wraps(transform)
    def guarded_transform(self: LoadImageFromFile, results: dict):
        path = results.get('img_path')
        try:
            out = transform(self, results)
            error = None
        except Exception as err:
            # Skipping or renaming any other error would hide a bug as a
            # "bad image" (and under ignore_empty, drop every sample).
            if not is_read_error(err):
                raise
            out, error = None, err
        if out is not None:
            return out
        reason = why_unreadable(path, error)
        if not self.ignore_empty:
            raise UnreadableImageError(
                f'cannot read image {path}: the file {reason}. Fix: replace '
                'or delete the file (and its entry in the annotation file), '
                f'or, to skip unreadable images, {SKIP_HINT}.') from error
        _SKIPPED.append(path)
        print_log(
            f'skipped unreadable image {path}: the file {reason} '
            f'(ignore_empty=True; {len(_SKIPPED)} skipped so far in this '
            'process)', logger='current', level=logging.WARNING)
        return None

    return guarded_transform


def _label_map_error(path: str) -> Optional[str]:
    """Why the label map ``path`` cannot be read, or None if it can."""
    reason = why_unreadable(path, None)
    if not reason.startswith('cannot be decoded'):
        return reason  # missing or empty
    try:
        readable = mmcv.imread(path, flag='unchanged') is not None
    except Exception as err:
        return why_unreadable(path, err)
    return None if readable else reason


def _guarded_annotations(transform: Callable) -> Callable:
    """Wrap ``LoadAnnotations.transform`` to name an unreadable label map."""

    @functools.wraps(transform)
    def guarded_transform(self: LoadAnnotations, results: dict):
        try:
            return transform(self, results)
        except Exception as err:
            path = results.get('seg_map_path')
            reason = (_label_map_error(path) if self.with_seg and path
                      and '://' not in str(path) else None)
            if reason is None:
                raise
            raise UnreadableImageError(
                f'cannot read label map {path}: the file {reason}. Fix: '
                'replace the file, or delete the sample (its image and '
                'label map) from the split file.') from err

    return guarded_transform


def guard_image_loading() -> None:
    """Wrap mmcv's ``LoadImageFromFile`` and ``LoadAnnotations`` (once).

    Applied by ``import mixskd_mm`` (the ``unreadable_image_error`` and
    ``unreadable_label_map_error`` patches of :mod:`mixskd_mm.patches`,
    which also undo them); idempotent.
    """
    from ..patches import apply_patches
    apply_patches(['unreadable_image_error', 'unreadable_label_map_error'])
