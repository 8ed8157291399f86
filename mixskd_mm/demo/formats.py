"""The demo sets on disk: ImageNet-style, COCO and Pascal VOC layouts.

Three sets are written from this world, so that a backbone pretrained on
the classification set learns features that help on the other two:

* **Classification** (``write_classification_set``, 64x64 px by default):
  one object per image, class = ``'<shape>_<texture>'`` (5 x 4 = 20
  classes, ``CLS_CLASSES``), so both shape and texture must be recognised.
  ImageNet-style folders ``train/<class>/*.JPEG`` and ``val/<class>/*.JPEG``
  plus ``meta/{train,val}.txt`` (``'<class>/<file> <label>'``) and
  ``classes.txt``. Class names are sorted, so a folder scan (mmpretrain
  ``CustomDataset`` without ``ann_file``) gives the same labels as the
  ``meta`` files.
* **Detection** (``write_coco_detection_set``, 128x128 px): 1 to
  ``max_objects`` non-overlapping objects per image, category = shape
  (``DET_CLASSES``, COCO ``category_id`` = index + 1), random texture. COCO
  json: ``bbox`` is the tight box ``[x, y, w, h]`` of the object's pixel
  mask (pixel coverage >= 0.5), ``area`` is the mask's pixel count and
  ``segmentation`` is the shape's polygon in COCO coordinates (pixel
  centres at +0.5).
* **Segmentation** (``write_voc_segmentation_set``, 128x128 px): the same
  kind of scenes in the Pascal VOC 2012 layout. ``SegmentationClass/*.png``
  are palette PNGs with label 0 = background, ``i + 1`` = ``SHAPES[i]`` and
  ``IGNORE_INDEX`` (255) on a band of ``ignore_border`` pixels just outside
  each object (VOC-style; 0 turns it off).
"""
import io
import json
import os
import os.path as osp
import shutil
from typing import List, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from .metainfo import SPLITS, voc_palette
from .scenes import (coco_annotation, label_map, render_classification_image,
                     render_scene, sample_scene)
from .world import (CLS_CLASSES, DET_CLASSES, IGNORE_INDEX, SEG_CLASSES,
                    check_int, image_rng)

_TASK_CODES = dict(cls=0, det=1, seg=2)
_SPLIT_CODES = dict(train=0, val=1)
#: Entries of a writer's root that it creates (and replaces on overwrite).
OUTPUTS = dict(
    cls=('train', 'val', 'meta', 'classes.txt'),
    det=('train', 'val', 'annotations'),
    seg=('VOC2012', ))
_JPEG_QUALITY = 95
_MIN_IMAGE_SIZE = 32


def existing_outputs(root: str, names: Sequence[str]) -> List[str]:
    """The entries ``root/<name>`` that exist."""
    paths = [osp.join(os.fspath(root), name) for name in names]
    return [path for path in paths if osp.lexists(path)]


def exists_error(path: str) -> FileExistsError:
    """The error raised when a generated entry exists already."""
    return FileExistsError(
        f'{path} already exists; pass overwrite=True (CLI: --overwrite) to '
        'replace the generated files')


def _prepare(root, task: str, overwrite: bool) -> str:
    """Create ``root`` and clear the entries a writer owns in it.

    Args:
        root (str | PathLike): Output folder.
        task (str): ``'cls'``, ``'det'`` or ``'seg'`` (see ``OUTPUTS``).
        overwrite (bool): Remove existing entries instead of raising
            ``FileExistsError``.

    Returns:
        str: ``root`` as a string.
    """
    root = os.fspath(root)
    if osp.exists(root) and not osp.isdir(root):
        raise NotADirectoryError(f'{root} exists and is not a folder')
    existing = existing_outputs(root, OUTPUTS[task])
    if existing and not overwrite:
        raise exists_error(existing[0])
    for path in existing:
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    os.makedirs(root, exist_ok=True)
    return root


def _write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path``, creating its folder."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def _write_text(path: str, lines: Sequence[str]) -> None:
    """Write lines with ``\\n`` endings."""
    _write_bytes(path, ''.join(f'{line}\n' for line in lines).encode())


def _jpeg_bytes(image: np.ndarray) -> bytes:
    """Encode an RGB uint8 image as JPEG (quality 95)."""
    ok, buf = cv2.imencode('.jpg', image[..., ::-1],
                           [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
    if not ok:
        raise RuntimeError('cv2.imencode failed to encode a JPEG')
    return buf.tobytes()


def _png_bytes(labels: np.ndarray, palette: Sequence[Sequence[int]]) -> bytes:
    """Encode a uint8 label map as a palette ('P' mode) PNG."""
    image = Image.fromarray(labels)
    image.putpalette([c for rgb in palette for c in rgb])
    buf = io.BytesIO()
    image.save(buf, format='PNG')
    return buf.getvalue()


def _json_bytes(obj: dict) -> bytes:
    """Compact, key-ordered JSON."""
    return json.dumps(obj, separators=(',', ':')).encode()


def _check_common(image_size: int, seed: int) -> None:
    """Validate the arguments every writer takes."""
    check_int('image_size', image_size, _MIN_IMAGE_SIZE)
    check_int('seed', seed, 0)


def write_classification_set(root,
                             num_per_class_train: int = 8,
                             num_per_class_val: int = 4,
                             image_size: int = 64,
                             seed: int = 0,
                             overwrite: bool = False) -> dict:
    """Write the ImageNet-style classification set.

    Layout: ``root/train/<class>/<class>_<i:04d>.JPEG``, the same under
    ``val/``, ``root/meta/{train,val}.txt`` with ``'<class>/<file> <label>'``
    lines and ``root/classes.txt`` (one name per line, label order).

    Args:
        root (str | PathLike): Output folder.
        num_per_class_train (int): Training images per class. Defaults to 8.
        num_per_class_val (int): Validation images per class. Defaults to 4.
        image_size (int): Side in pixels (>= 32). Defaults to 64.
        seed (int): Non-negative seed. Defaults to 0.
        overwrite (bool): Replace ``train/``, ``val/``, ``meta/`` and
            ``classes.txt`` if they exist, else raise ``FileExistsError``.
            Defaults to False.

    Returns:
        dict: ``root``, ``classes`` (list of 20 names), ``num_train``,
        ``num_val`` (totals over classes), ``image_size`` and ``seed``.
    """
    check_int('num_per_class_train', num_per_class_train, 1)
    check_int('num_per_class_val', num_per_class_val, 1)
    _check_common(image_size, seed)
    root = _prepare(root, 'cls', overwrite)
    counts = dict(train=num_per_class_train, val=num_per_class_val)
    for split in SPLITS:
        lines = []
        for label, name in enumerate(CLS_CLASSES):
            shape, texture = name.split('_')
            for index in range(counts[split]):
                rng = image_rng(seed, _TASK_CODES['cls'],
                                _SPLIT_CODES[split], label, index)
                image = render_classification_image(rng, shape, texture,
                                                    image_size)
                file_name = f'{name}/{name}_{index:04d}.JPEG'
                _write_bytes(
                    osp.join(root, split, file_name), _jpeg_bytes(image))
                lines.append(f'{file_name} {label}')
        _write_text(osp.join(root, 'meta', f'{split}.txt'), lines)
    _write_text(osp.join(root, 'classes.txt'), CLS_CLASSES)
    return dict(
        root=root,
        classes=list(CLS_CLASSES),
        num_train=num_per_class_train * len(CLS_CLASSES),
        num_val=num_per_class_val * len(CLS_CLASSES),
        image_size=image_size,
        seed=seed)


def _scene(seed: int, task: str, split: str, index: int, image_size: int,
           max_objects: int) -> Tuple[np.ndarray, list, list]:
    """Render image ``index`` of a detection/segmentation split."""
    rng = image_rng(seed, _TASK_CODES[task], _SPLIT_CODES[split], index)
    background, objects = sample_scene(rng, image_size, max_objects)
    image, coverages = render_scene(background, objects)
    return image, objects, coverages


def write_coco_detection_set(root,
                             num_train: int = 32,
                             num_val: int = 8,
                             image_size: int = 128,
                             seed: int = 0,
                             max_objects: int = 4,
                             overwrite: bool = False) -> dict:
    """Write the COCO-format detection set (category = shape).

    Layout: ``root/{train,val}/<i:06d>.jpg`` and
    ``root/annotations/instances_{train,val}.json``. Image ids are
    ``i + 1`` and annotation ids count from 1 within each file.

    Args:
        root (str | PathLike): Output folder.
        num_train (int): Training images. Defaults to 32.
        num_val (int): Validation images. Defaults to 8.
        image_size (int): Side in pixels (>= 32). Defaults to 128.
        seed (int): Non-negative seed. Defaults to 0.
        max_objects (int): Objects per image, 1 to this. Defaults to 4.
        overwrite (bool): Replace ``train/``, ``val/`` and ``annotations/``
            if they exist, else raise ``FileExistsError``. Defaults to False.

    Returns:
        dict: ``root``, ``classes`` (``DET_CLASSES``), ``num_train``,
        ``num_val``, ``num_train_instances``, ``num_val_instances``,
        ``ann_files`` (``{split: relative path}``), ``image_size``,
        ``seed``.
    """
    check_int('num_train', num_train, 1)
    check_int('num_val', num_val, 1)
    check_int('max_objects', max_objects, 1)
    _check_common(image_size, seed)
    root = _prepare(root, 'det', overwrite)
    counts = dict(train=num_train, val=num_val)
    categories = [
        dict(id=i + 1, name=name, supercategory='shape')
        for i, name in enumerate(DET_CLASSES)
    ]
    result = dict(root=root, classes=DET_CLASSES, ann_files={})
    for split in SPLITS:
        images, annotations = [], []
        for index in range(counts[split]):
            image, objects, coverages = _scene(seed, 'det', split, index,
                                               image_size, max_objects)
            file_name = f'{index:06d}.jpg'
            _write_bytes(osp.join(root, split, file_name), _jpeg_bytes(image))
            images.append(
                dict(
                    id=index + 1,
                    file_name=file_name,
                    width=image_size,
                    height=image_size))
            for spec, coverage in zip(objects, coverages):
                ann = coco_annotation(spec, coverage)
                annotations.append(
                    dict(id=len(annotations) + 1, image_id=index + 1, **ann))
        ann_file = f'annotations/instances_{split}.json'
        coco = dict(
            info=dict(
                description='mixskd_mm demo shapes (generated)',
                version='1.0'),
            licenses=[],
            images=images,
            annotations=annotations,
            categories=categories)
        _write_bytes(osp.join(root, ann_file), _json_bytes(coco))
        result['ann_files'][split] = ann_file
        result[f'num_{split}'] = len(images)
        result[f'num_{split}_instances'] = len(annotations)
    result.update(image_size=image_size, seed=seed)
    return result


def write_voc_segmentation_set(root,
                               num_train: int = 32,
                               num_val: int = 8,
                               image_size: int = 128,
                               seed: int = 0,
                               max_objects: int = 4,
                               ignore_border: int = 1,
                               overwrite: bool = False) -> dict:
    """Write the Pascal-VOC-format segmentation set (class = shape).

    Layout under ``root/VOC2012``: ``JPEGImages/<split>_<i:06d>.jpg``,
    ``SegmentationClass/<split>_<i:06d>.png`` (palette PNG, uint8 labels:
    0 background, ``SHAPES.index + 1``, 255 ignore) and
    ``ImageSets/Segmentation/{train,val,trainval}.txt``. Read it with
    ``BaseSegDataset`` and :func:`voc_metainfo` (see the module docstring).

    Args:
        root (str | PathLike): Output folder.
        num_train (int): Training images. Defaults to 32.
        num_val (int): Validation images. Defaults to 8.
        image_size (int): Side in pixels (>= 32). Defaults to 128.
        seed (int): Non-negative seed. Defaults to 0.
        max_objects (int): Objects per image, 1 to this. Defaults to 4.
        ignore_border (int): Width of the 255 band outside objects; 0
            disables it. Defaults to 1.
        overwrite (bool): Replace ``VOC2012/`` if it exists, else raise
            ``FileExistsError``. Defaults to False.

    Returns:
        dict: ``root``, ``data_root`` (``root/VOC2012``), ``classes``
        (``SEG_CLASSES``), ``palette``, ``num_train``, ``num_val``,
        ``ignore_index`` (255), ``image_size`` and ``seed``.
    """
    check_int('num_train', num_train, 1)
    check_int('num_val', num_val, 1)
    check_int('max_objects', max_objects, 1)
    check_int('ignore_border', ignore_border, 0)
    _check_common(image_size, seed)
    root = _prepare(root, 'seg', overwrite)
    voc = osp.join(root, 'VOC2012')
    palette = voc_palette(256)
    counts = dict(train=num_train, val=num_val)
    names = {}
    for split in SPLITS:
        names[split] = [f'{split}_{i:06d}' for i in range(counts[split])]
        for index, name in enumerate(names[split]):
            image, objects, coverages = _scene(seed, 'seg', split, index,
                                               image_size, max_objects)
            labels = label_map(objects, coverages, ignore_border)
            _write_bytes(
                osp.join(voc, 'JPEGImages', f'{name}.jpg'), _jpeg_bytes(image))
            _write_bytes(
                osp.join(voc, 'SegmentationClass', f'{name}.png'),
                _png_bytes(labels, palette))
        _write_text(
            osp.join(voc, 'ImageSets', 'Segmentation', f'{split}.txt'),
            names[split])
    _write_text(
        osp.join(voc, 'ImageSets', 'Segmentation', 'trainval.txt'),
        names['train'] + names['val'])
    return dict(
        root=root,
        data_root=voc,
        classes=SEG_CLASSES,
        palette=voc_palette(len(SEG_CLASSES)),
        num_train=num_train,
        num_val=num_val,
        ignore_index=IGNORE_INDEX,
        image_size=image_size,
        seed=seed)
