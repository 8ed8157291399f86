"""Deterministic demo data: one visual world in three real on-disk formats.

The world
---------
Every image shows objects that are **shapes** (``SHAPES``: circle, cross,
square, star, triangle) painted with **textures** (``TEXTURES``: checker,
dots, solid, stripes) in random colours, on a noisy background (a random
base colour, a smooth low-frequency colour field and per-pixel grain). Each
object gets a random position, scale, rotation, texture period, texture
orientation and texture phase. The random draws are the same for every
class (the class only decides what is painted), so colour, size and
position carry no information about the label. Edges are anti-aliased by
4x supersampling.

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

Segmentation class names and mmseg
----------------------------------
mmseg's ``PascalVOCDataset`` fixes ``METAINFO`` to VOC's 21 names, and
``BaseSegDataset.get_label_map`` raises ``ValueError`` for
``metainfo=dict(classes=...)`` with a name outside them, so shape names
cannot be given to it. The set therefore keeps the VOC on-disk layout and
is meant to be read with mmseg's ``BaseSegDataset`` (the unchanged parent
of ``PascalVOCDataset``, with the same ``.jpg``/``.png`` suffixes and split
file reading) and ``metainfo=voc_metainfo()``: the dataset, ``IoUMetric``
and the visualiser then report ``('background', 'circle', ...)`` and
``num_classes`` is ``len(SEG_CLASSES)`` = 6. The files also load with the
real ``PascalVOCDataset`` and no metainfo (labels 0-5 are VOC ids 0-5,
``IoUMetric`` averages with ``nanmean`` so ids that never occur do not
count), but it reports VOC names and needs ``num_classes=21``.

Configs
-------
``dataset_cfg(task, root, split, pipeline)`` returns these dicts (``root``
is the writer's root, e.g. ``data/demo/cls``; ``metainfo`` literals are
``classification_metainfo()``, ``coco_metainfo()`` and ``voc_metainfo()``;
val splits add ``test_mode=True``)::

    dict(type='CustomDataset', data_root='data/demo/cls',     # mmpretrain
         ann_file='meta/train.txt', data_prefix='train',
         metainfo=dict(classes=CLS_CLASSES))
    dict(type='CocoDataset', data_root='data/demo/det',       # mmdet
         ann_file='annotations/instances_train.json',
         data_prefix=dict(img='train/'), metainfo=coco_metainfo())
    dict(type='BaseSegDataset', data_root='data/demo/seg/VOC2012',  # mmseg
         ann_file='ImageSets/Segmentation/train.txt',
         data_prefix=dict(img_path='JPEGImages',
                          seg_map_path='SegmentationClass'),
         img_suffix='.jpg', seg_map_suffix='.png', metainfo=voc_metainfo())

Evaluators: mmpretrain ``Accuracy``; mmdet ``CocoMetric(ann_file=
'data/demo/det/annotations/instances_val.json', metric='bbox')``; mmseg
``IoUMetric(iou_metrics=['mIoU'])``. Heads: 20, 5 and 6 classes.

Determinism
-----------
Image ``i`` of a split is drawn from ``numpy.random.SeedSequence(seed,
spawn_key=(task, split, [label,] i))``, so it is the same whatever the
number of images written, and the same seed gives byte-identical
annotation files and identical images. No global random state is used.
"""
import io
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

SHAPES = ('circle', 'cross', 'square', 'star', 'triangle')
TEXTURES = ('checker', 'dots', 'solid', 'stripes')
CLS_CLASSES = tuple(f'{s}_{t}' for s in SHAPES for t in TEXTURES)
DET_CLASSES = SHAPES
SEG_CLASSES = ('background', ) + SHAPES
IGNORE_INDEX = 255

COUNT_KEYS = ('cls_train', 'cls_val', 'det_train', 'det_val', 'seg_train',
              'seg_val')
#: Image counts of the size presets; ``cls_*`` are per class (20 classes).
SIZES = {
    'tiny': dict(zip(COUNT_KEYS, (2, 1, 4, 2, 4, 2))),
    'small': dict(zip(COUNT_KEYS, (8, 4, 32, 8, 32, 8))),
    'default': dict(zip(COUNT_KEYS, (80, 20, 400, 100, 400, 100))),
}

_TASK_CODES = dict(cls=0, det=1, seg=2)
# Entries of a writer's root that it creates (and replaces on overwrite).
_OUTPUTS = dict(
    cls=('train', 'val', 'meta', 'classes.txt'),
    det=('train', 'val', 'annotations'),
    seg=('VOC2012', ))
_SPLIT_CODES = dict(train=0, val=1)
_SPLITS = ('train', 'val')
_SUPERSAMPLE = 4
_SHIFT = 4
_JPEG_QUALITY = 95
_MIN_IMAGE_SIZE = 32
_CROSS_HALF_WIDTH = 0.3
_STAR_INNER_RATIO = 0.45
_CIRCLE_VERTICES = 48


class ObjectSpec(NamedTuple):
    """Everything needed to paint one object.

    Attributes:
        shape (str): One of ``SHAPES``.
        texture (str): One of ``TEXTURES``.
        center (tuple[float, float]): ``(x, y)`` in pixel-centre
            coordinates (pixel ``(0, 0)`` has its centre at ``(0, 0)``).
        radius (float): Circumradius in pixels.
        angle (float): Rotation of the shape in radians.
        colors (np.ndarray): ``(2, 3)`` float RGB, primary and secondary.
        period (float): Texture period in pixels.
        texture_angle (float): Texture orientation in radians.
        phase (tuple[float, float]): Texture offset in pixels.
    """
    shape: str
    texture: str
    center: Tuple[float, float]
    radius: float
    angle: float
    colors: np.ndarray
    period: float
    texture_angle: float
    phase: Tuple[float, float]


# ---------------------------------------------------------------- metainfo
def class_names(task: str) -> Tuple[str, ...]:
    """Class names of one task, in label order.

    Args:
        task (str): ``'cls'`` (``'<shape>_<texture>'``, 20 names), ``'det'``
            (shape names) or ``'seg'`` (``'background'`` + shape names).

    Returns:
        tuple[str]: The names.
    """
    names = dict(cls=CLS_CLASSES, det=DET_CLASSES, seg=SEG_CLASSES)
    if task not in names:
        raise ValueError(f'task must be one of {sorted(names)}, got {task!r}')
    return names[task]


def voc_palette(num_colors: int = 256) -> List[List[int]]:
    """The Pascal VOC colour map (label ``i`` -> RGB).

    Args:
        num_colors (int): Number of entries, 1 to 256. Defaults to 256.

    Returns:
        list[list[int]]: ``num_colors`` RGB triplets; entry 0 is black,
        1 is ``[128, 0, 0]`` and 255 is ``[224, 224, 192]``.
    """
    _check_int('num_colors', num_colors, 1, 256)
    palette = []
    for index in range(num_colors):
        rgb = [0, 0, 0]
        code = index
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((code >> channel) & 1) << (7 - bit)
            code >>= 3
        palette.append(rgb)
    return palette


def classification_metainfo() -> dict:
    """``metainfo`` for mmpretrain datasets of the classification set.

    Returns:
        dict: ``dict(classes=CLS_CLASSES)``.
    """
    return dict(classes=CLS_CLASSES)


def coco_metainfo() -> dict:
    """``metainfo`` for mmdet's ``CocoDataset`` on the detection set.

    Returns:
        dict: ``dict(classes=DET_CLASSES, palette=...)``; shape ``i`` has the
        colour of label ``i + 1`` in ``voc_metainfo()``.
    """
    palette = [tuple(c) for c in voc_palette(len(SEG_CLASSES))[1:]]
    return dict(classes=DET_CLASSES, palette=palette)


def voc_metainfo() -> dict:
    """``metainfo`` for mmseg's ``BaseSegDataset`` on the segmentation set.

    See the module docstring for why ``PascalVOCDataset`` cannot take it.

    Returns:
        dict: ``dict(classes=SEG_CLASSES, palette=voc_palette(6))``.
    """
    return dict(classes=SEG_CLASSES, palette=voc_palette(len(SEG_CLASSES)))


def dataset_cfg(task: str,
                data_root: str,
                split: str = 'train',
                pipeline: Sequence = ()) -> dict:
    """Dataset config dict of one split of a written set.

    Types are bare names, resolved in the config's default scope
    (mmpretrain, mmdet and mmseg respectively).

    Args:
        task (str): ``'cls'``, ``'det'`` or ``'seg'``.
        data_root (str): The ``root`` given to the matching writer (for
            ``'seg'`` the ``VOC2012`` folder inside it is used).
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
            ``'val'`` sets ``test_mode=True``.
        pipeline (Sequence): Transforms. Defaults to ``()``.

    Returns:
        dict: ``CustomDataset`` / ``CocoDataset`` / ``BaseSegDataset``
        config.
    """
    class_names(task)
    if split not in _SPLITS:
        raise ValueError(f'split must be one of {_SPLITS}, got {split!r}')
    data_root = str(data_root)
    common = dict(pipeline=list(pipeline), test_mode=split != 'train')
    if task == 'cls':
        return dict(
            type='CustomDataset',
            data_root=data_root,
            ann_file=f'meta/{split}.txt',
            data_prefix=split,
            metainfo=classification_metainfo(),
            **common)
    if task == 'det':
        return dict(
            type='CocoDataset',
            data_root=data_root,
            ann_file=f'annotations/instances_{split}.json',
            data_prefix=dict(img=f'{split}/'),
            metainfo=coco_metainfo(),
            **common)
    return dict(
        type='BaseSegDataset',
        data_root=osp.join(data_root, 'VOC2012'),
        ann_file=f'ImageSets/Segmentation/{split}.txt',
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        metainfo=voc_metainfo(),
        **common)


# ------------------------------------------------------------ validation
def _check_int(name: str,
               value,
               minimum: int,
               maximum: Optional[int] = None) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``value`` is a bounded int.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f'{name} must be an int, got {type(value).__name__} {value!r}')
    if value < minimum or (maximum is not None and value > maximum):
        bound = f'>= {minimum}' if maximum is None else \
            f'in [{minimum}, {maximum}]'
        raise ValueError(f'{name} must be {bound}, got {value}')


def _check_choice(name: str, value, choices: Sequence[str]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(
            f'{name} must be one of {tuple(choices)}, got {value!r}')


def _rng(seed: int, *key: int) -> np.random.Generator:
    """An independent generator for one image.

    Args:
        seed (int): The user seed (non-negative).
        *key (int): Task, split, (label,) and image index.

    Returns:
        np.random.Generator: Seeded with ``SeedSequence(seed, key)``.
    """
    return np.random.default_rng(
        np.random.SeedSequence(int(seed), spawn_key=tuple(key)))


# -------------------------------------------------------------- geometry
def _unit_polygon(shape: str) -> np.ndarray:
    """Vertices of a shape with circumradius 1 centred at the origin.

    Args:
        shape (str): One of ``SHAPES``.

    Returns:
        np.ndarray: ``(N, 2)`` float64 ``(x, y)`` vertices.
    """
    _check_choice('shape', shape, SHAPES)
    if shape == 'circle':
        theta = np.linspace(0, 2 * np.pi, _CIRCLE_VERTICES, endpoint=False)
        return np.stack([np.cos(theta), np.sin(theta)], axis=1)
    if shape == 'square':
        theta = np.pi / 4 + np.arange(4) * np.pi / 2
        return np.stack([np.cos(theta), np.sin(theta)], axis=1)
    if shape == 'triangle':
        theta = -np.pi / 2 + np.arange(3) * 2 * np.pi / 3
        return np.stack([np.cos(theta), np.sin(theta)], axis=1)
    if shape == 'star':
        theta = -np.pi / 2 + np.arange(10) * np.pi / 5
        rho = np.where(np.arange(10) % 2 == 0, 1.0, _STAR_INNER_RATIO)
        return np.stack([rho * np.cos(theta), rho * np.sin(theta)], axis=1)
    a = _CROSS_HALF_WIDTH
    cross = np.array([[-a, -1], [a, -1], [a, -a], [1, -a], [1, a], [a, a],
                      [a, 1], [-a, 1], [-a, a], [-1, a], [-1, -a], [-a, -a]])
    return cross / np.hypot(1.0, a)


def shape_polygon(shape: str,
                  center: Sequence[float],
                  radius: float,
                  angle: float = 0.0) -> np.ndarray:
    """Vertices of a placed shape.

    Args:
        shape (str): One of ``SHAPES`` (a circle is a 48-gon).
        center (Sequence[float]): ``(x, y)`` in pixel-centre coordinates.
        radius (float): Circumradius in pixels (> 0).
        angle (float): Rotation in radians. Defaults to 0.

    Returns:
        np.ndarray: ``(N, 2)`` float64 ``(x, y)`` vertices.
    """
    if not radius > 0:
        raise ValueError(f'radius must be > 0, got {radius}')
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[cos, sin], [-sin, cos]])
    return _unit_polygon(shape) @ rotation * radius + np.asarray(
        center, dtype=np.float64)


def rasterize_polygon(polygon: np.ndarray, height: int,
                      width: int) -> np.ndarray:
    """Pixel coverage of a polygon, anti-aliased by 4x supersampling.

    Args:
        polygon (np.ndarray): ``(N, 2)`` ``(x, y)`` vertices in pixel-centre
            coordinates, ``N >= 3``.
        height (int): Output height.
        width (int): Output width.

    Returns:
        np.ndarray: ``(height, width)`` float32 coverage in ``[0, 1]``.
        ``cv2.fillPoly`` fills sub-pixels on the boundary, so the total
        exceeds the exact area by about ``perimeter / 8`` (< ``/ 4``).
    """
    polygon = np.asarray(polygon, dtype=np.float64)
    if polygon.ndim != 2 or polygon.shape[1] != 2 or len(polygon) < 3:
        raise ValueError(
            f'polygon must have shape (N >= 3, 2), got {polygon.shape}')
    s = _SUPERSAMPLE
    canvas = np.zeros((height * s, width * s), dtype=np.uint8)
    points = np.round((polygon * s + (s - 1) / 2) * (1 << _SHIFT))
    cv2.fillPoly(
        canvas, [points.astype(np.int32)],
        255,
        lineType=cv2.LINE_8,
        shift=_SHIFT)
    coverage = cv2.resize(
        canvas, (width, height), interpolation=cv2.INTER_AREA)
    return coverage.astype(np.float32) / 255


# -------------------------------------------------------------- textures
def texture_mask(
    texture: str,
    height: int,
    width: int,
    period: float = 8.0,
    angle: float = 0.0,
    phase: Sequence[float] = (0.0, 0.0),
) -> np.ndarray:
    """Where a texture shows its primary colour.

    Pixel ``(y, x)`` has rotated coordinates ``u = x cos a + y sin a +
    phase[0]`` and ``v = -x sin a + y cos a + phase[1]``. ``'solid'`` is all
    primary; ``'stripes'``: ``frac(u / period) < 0.5``; ``'checker'``:
    ``floor(u / period) + floor(v / period)`` is even; ``'dots'``: within
    ``0.3 * period`` of a lattice point ``((k + 0.5) * period, ...)``.

    Args:
        texture (str): One of ``TEXTURES``.
        height (int): Output height.
        width (int): Output width.
        period (float): Period in pixels (> 0). Defaults to 8.
        angle (float): Orientation in radians. Defaults to 0.
        phase (Sequence[float]): ``(u, v)`` offset in pixels.

    Returns:
        np.ndarray: ``(height, width)`` bool.
    """
    _check_choice('texture', texture, TEXTURES)
    if not period > 0:
        raise ValueError(f'period must be > 0, got {period}')
    if texture == 'solid':
        return np.ones((height, width), dtype=bool)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    cos, sin = np.cos(angle), np.sin(angle)
    u = (xs * cos + ys * sin + phase[0]) / period
    v = (-xs * sin + ys * cos + phase[1]) / period
    if texture == 'stripes':
        return u - np.floor(u) < 0.5
    if texture == 'checker':
        return (np.floor(u) + np.floor(v)) % 2 == 0
    du = u - np.floor(u) - 0.5
    dv = v - np.floor(v) - 0.5
    return np.hypot(du, dv) < 0.3


def render_texture(
    texture: str,
    height: int,
    width: int,
    colors: np.ndarray,
    period: float = 8.0,
    angle: float = 0.0,
    phase: Sequence[float] = (0.0, 0.0),
) -> np.ndarray:
    """Paint a texture in two colours.

    Args:
        texture (str): One of ``TEXTURES``.
        height (int): Output height.
        width (int): Output width.
        colors (np.ndarray): ``(2, 3)`` RGB, primary then secondary.
        period (float): See :func:`texture_mask`. Defaults to 8.
        angle (float): See :func:`texture_mask`. Defaults to 0.
        phase (Sequence[float]): See :func:`texture_mask`.

    Returns:
        np.ndarray: ``(height, width, 3)`` float32 RGB.
    """
    colors = np.asarray(colors, dtype=np.float32)
    if colors.shape != (2, 3):
        raise ValueError(f'colors must have shape (2, 3), got {colors.shape}')
    mask = texture_mask(texture, height, width, period, angle, phase)
    return np.where(mask[..., None], colors[0], colors[1])


# ------------------------------------------------------------- sampling
def sample_background(rng: np.random.Generator, height: int,
                      width: int) -> Tuple[np.ndarray, np.ndarray]:
    """A noisy background: base colour + smooth field + grain.

    Args:
        rng (np.random.Generator): Random source.
        height (int): Image height.
        width (int): Image width.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(height, width, 3)`` float32 RGB
        (not clipped) and the ``(3, )`` base colour.
    """
    base = rng.uniform(0, 255, size=3)
    coarse = rng.normal(0, 28, size=(4, 4, 3)).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, 7, size=(height, width, 3))
    image = base + smooth + grain
    return image.astype(np.float32), base


def _far_color(rng: np.random.Generator, avoid: Sequence[np.ndarray],
               min_distances: Sequence[float]) -> np.ndarray:
    """A uniform random RGB colour far from every colour in ``avoid``.

    Tries 64 draws, then falls back to the complement of ``avoid[0]``.
    """
    for _ in range(64):
        color = rng.uniform(0, 255, size=3)
        if all(
                np.linalg.norm(color - other) >= dist
                for other, dist in zip(avoid, min_distances)):
            return color
    return 255 - np.asarray(avoid[0], dtype=np.float64)


def sample_colors(rng: np.random.Generator,
                  background: np.ndarray,
                  min_distance: float = 100.0) -> np.ndarray:
    """Primary and secondary object colours that contrast with the scene.

    The primary is at least ``min_distance`` (RGB L2) from ``background``;
    the secondary at least ``min_distance`` from the primary and
    ``0.6 * min_distance`` from ``background``.

    Args:
        rng (np.random.Generator): Random source.
        background (np.ndarray): ``(3, )`` RGB base colour.
        min_distance (float): Contrast in RGB units. Defaults to 100.

    Returns:
        np.ndarray: ``(2, 3)`` float64 RGB.
    """
    primary = _far_color(rng, [background], [min_distance])
    secondary = _far_color(rng, [primary, background],
                           [min_distance, 0.6 * min_distance])
    return np.stack([primary, secondary])


def sample_object(rng: np.random.Generator, shape: str, texture: str,
                  center: Sequence[float], radius: float,
                  background: np.ndarray) -> ObjectSpec:
    """Draw the appearance of one object.

    The number of draws does not depend on ``shape`` or ``texture``, so the
    same generator state gives the same colours for every class.

    Args:
        rng (np.random.Generator): Random source.
        shape (str): One of ``SHAPES``.
        texture (str): One of ``TEXTURES``.
        center (Sequence[float]): ``(x, y)`` in pixels.
        radius (float): Circumradius in pixels.
        background (np.ndarray): ``(3, )`` base colour to contrast with.

    Returns:
        ObjectSpec: The object.
    """
    _check_choice('shape', shape, SHAPES)
    _check_choice('texture', texture, TEXTURES)
    colors = sample_colors(rng, background)
    angle = rng.uniform(0, 2 * np.pi)
    period = max(4.5, radius * rng.uniform(0.3, 0.5))
    texture_angle = rng.uniform(0, np.pi)
    phase = tuple(rng.uniform(0, period, size=2))
    return ObjectSpec(shape, texture, (float(center[0]), float(center[1])),
                      float(radius), float(angle), colors, float(period),
                      float(texture_angle), phase)


def sample_scene(rng: np.random.Generator,
                 image_size: int = 128,
                 max_objects: int = 4,
                 radius_range: Tuple[float, float] = (0.08, 0.28),
                 max_tries: int = 30) -> Tuple[np.ndarray, List[ObjectSpec]]:
    """A background and 1 to ``max_objects`` non-overlapping objects.

    Shapes and textures are uniform. Circumcircles are kept 2 px apart and
    1 px inside the image; an object that finds no room in ``max_tries``
    positions is dropped (the first one always fits).

    Args:
        rng (np.random.Generator): Random source.
        image_size (int): Side in pixels. Defaults to 128.
        max_objects (int): Defaults to 4.
        radius_range (tuple[float, float]): Circumradius as a fraction of
            ``image_size``. Defaults to ``(0.08, 0.28)``.
        max_tries (int): Placement attempts per object. Defaults to 30.

    Returns:
        tuple[np.ndarray, list[ObjectSpec]]: ``(S, S, 3)`` float32
        background and the objects.
    """
    background, base = sample_background(rng, image_size, image_size)
    num_objects = int(rng.integers(1, max_objects + 1))
    objects: List[ObjectSpec] = []
    for _ in range(num_objects):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        texture = TEXTURES[int(rng.integers(len(TEXTURES)))]
        radius = rng.uniform(*radius_range) * image_size
        for _ in range(max_tries):
            center = rng.uniform(radius + 1, image_size - 1 - radius, 2)
            if all(
                    np.hypot(*(center - np.array(o.center))) >= radius +
                    o.radius + 2 for o in objects):
                objects.append(
                    sample_object(rng, shape, texture, center, radius, base))
                break
    return background, objects


# ------------------------------------------------------------- rendering
def paint_object(image: np.ndarray,
                 spec: ObjectSpec) -> Tuple[np.ndarray, np.ndarray]:
    """Composite one object over an image.

    Args:
        image (np.ndarray): ``(H, W, 3)`` float32 RGB.
        spec (ObjectSpec): The object.

    Returns:
        tuple[np.ndarray, np.ndarray]: The new ``(H, W, 3)`` float32 image
        and the object's ``(H, W)`` float32 coverage.
    """
    height, width = image.shape[:2]
    polygon = shape_polygon(spec.shape, spec.center, spec.radius, spec.angle)
    coverage = rasterize_polygon(polygon, height, width)
    layer = render_texture(spec.texture, height, width, spec.colors,
                           spec.period, spec.texture_angle, spec.phase)
    alpha = coverage[..., None]
    return image * (1 - alpha) + layer * alpha, coverage


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Round and clip a float image to ``uint8``."""
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def render_classification_image(rng: np.random.Generator,
                                shape: str,
                                texture: str,
                                image_size: int = 64) -> np.ndarray:
    """One centred-ish object of a given class on a noisy background.

    The circumradius is 24-40% of ``image_size``; the object stays 1 px
    inside the image. The draws do not depend on the class.

    Args:
        rng (np.random.Generator): Random source.
        shape (str): One of ``SHAPES``.
        texture (str): One of ``TEXTURES``.
        image_size (int): Side in pixels. Defaults to 64.

    Returns:
        np.ndarray: ``(S, S, 3)`` uint8 RGB.
    """
    background, base = sample_background(rng, image_size, image_size)
    radius = rng.uniform(0.24, 0.4) * image_size
    slack = image_size / 2 - radius - 1.5
    center = (image_size - 1) / 2 + rng.uniform(-slack, slack, size=2)
    spec = sample_object(rng, shape, texture, center, radius, base)
    image, _ = paint_object(background, spec)
    return to_uint8(image)


def render_scene(
        background: np.ndarray,
        objects: Sequence[ObjectSpec]) -> Tuple[np.ndarray, List[np.ndarray]]:
    """Paint objects over a background.

    Args:
        background (np.ndarray): ``(H, W, 3)`` float32 RGB.
        objects (Sequence[ObjectSpec]): The objects, painted in order.

    Returns:
        tuple[np.ndarray, list[np.ndarray]]: ``(H, W, 3)`` uint8 RGB image
        and one ``(H, W)`` float32 coverage per object.
    """
    image = background
    coverages = []
    for spec in objects:
        image, coverage = paint_object(image, spec)
        coverages.append(coverage)
    return to_uint8(image), coverages


def coco_annotation(spec: ObjectSpec, coverage: np.ndarray) -> dict:
    """COCO fields of one object (without ids).

    Args:
        spec (ObjectSpec): The object.
        coverage (np.ndarray): ``(H, W)`` coverage from :func:`paint_object`.

    Returns:
        dict: ``category_id`` (1-based), ``bbox`` ``[x, y, w, h]`` (tight
        box of ``coverage >= 0.5``), ``area`` (its pixel count),
        ``segmentation`` (one polygon, COCO coordinates, 2 decimals) and
        ``iscrowd=0``.
    """
    ys, xs = np.nonzero(coverage >= 0.5)
    x0, y0 = int(xs.min()), int(ys.min())
    bbox = [
        float(x0),
        float(y0),
        float(xs.max() - x0 + 1),
        float(ys.max() - y0 + 1)
    ]
    polygon = shape_polygon(spec.shape, spec.center, spec.radius,
                            spec.angle) + 0.5
    flat = [round(float(c), 2) for c in polygon.reshape(-1)]
    return dict(
        category_id=SHAPES.index(spec.shape) + 1,
        bbox=bbox,
        area=float(len(xs)),
        segmentation=[flat],
        iscrowd=0)


def label_map(objects: Sequence[ObjectSpec],
              coverages: Sequence[np.ndarray],
              ignore_border: int = 1) -> np.ndarray:
    """Semantic label map of a scene.

    Args:
        objects (Sequence[ObjectSpec]): The objects.
        coverages (Sequence[np.ndarray]): Their ``(H, W)`` coverages.
        ignore_border (int): Width in pixels of the ``IGNORE_INDEX`` band
            outside each object; 0 disables it. Defaults to 1.

    Returns:
        np.ndarray: ``(H, W)`` uint8; 0 background, ``SHAPES.index + 1``
        where coverage >= 0.5, ``IGNORE_INDEX`` on the band.
    """
    if not coverages:
        raise ValueError('a scene needs at least one object')
    labels = np.zeros(coverages[0].shape, dtype=np.uint8)
    for spec, coverage in zip(objects, coverages):
        labels[coverage >= 0.5] = SHAPES.index(spec.shape) + 1
    if ignore_border > 0:
        size = 2 * ignore_border + 1
        inside = (labels > 0).astype(np.uint8)
        grown = cv2.dilate(inside, np.ones((size, size), np.uint8))
        labels[(grown > 0) & (inside == 0)] = IGNORE_INDEX
    return labels


# ---------------------------------------------------------------- files
def _existing(root: str, names: Sequence[str]) -> List[str]:
    """The entries ``root/<name>`` that exist."""
    paths = [osp.join(os.fspath(root), name) for name in names]
    return [path for path in paths if osp.lexists(path)]


def _exists_error(path: str) -> FileExistsError:
    """The error raised when a generated entry exists already."""
    return FileExistsError(
        f'{path} already exists; pass overwrite=True (CLI: --overwrite) to '
        'replace the generated files')


def _prepare(root, task: str, overwrite: bool) -> str:
    """Create ``root`` and clear the entries a writer owns in it.

    Args:
        root (str | PathLike): Output folder.
        task (str): ``'cls'``, ``'det'`` or ``'seg'`` (see ``_OUTPUTS``).
        overwrite (bool): Remove existing entries instead of raising
            ``FileExistsError``.

    Returns:
        str: ``root`` as a string.
    """
    root = os.fspath(root)
    if osp.exists(root) and not osp.isdir(root):
        raise NotADirectoryError(f'{root} exists and is not a folder')
    existing = _existing(root, _OUTPUTS[task])
    if existing and not overwrite:
        raise _exists_error(existing[0])
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
    _check_int('image_size', image_size, _MIN_IMAGE_SIZE)
    _check_int('seed', seed, 0)


# -------------------------------------------------------------- writers
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
    _check_int('num_per_class_train', num_per_class_train, 1)
    _check_int('num_per_class_val', num_per_class_val, 1)
    _check_common(image_size, seed)
    root = _prepare(root, 'cls', overwrite)
    counts = dict(train=num_per_class_train, val=num_per_class_val)
    for split in _SPLITS:
        lines = []
        for label, name in enumerate(CLS_CLASSES):
            shape, texture = name.split('_')
            for index in range(counts[split]):
                rng = _rng(seed, _TASK_CODES['cls'], _SPLIT_CODES[split],
                           label, index)
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
    rng = _rng(seed, _TASK_CODES[task], _SPLIT_CODES[split], index)
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
    _check_int('num_train', num_train, 1)
    _check_int('num_val', num_val, 1)
    _check_int('max_objects', max_objects, 1)
    _check_common(image_size, seed)
    root = _prepare(root, 'det', overwrite)
    counts = dict(train=num_train, val=num_val)
    categories = [
        dict(id=i + 1, name=name, supercategory='shape')
        for i, name in enumerate(DET_CLASSES)
    ]
    result = dict(root=root, classes=DET_CLASSES, ann_files={})
    for split in _SPLITS:
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
    _check_int('num_train', num_train, 1)
    _check_int('num_val', num_val, 1)
    _check_int('max_objects', max_objects, 1)
    _check_int('ignore_border', ignore_border, 0)
    _check_common(image_size, seed)
    root = _prepare(root, 'seg', overwrite)
    voc = osp.join(root, 'VOC2012')
    palette = voc_palette(256)
    counts = dict(train=num_train, val=num_val)
    names = {}
    for split in _SPLITS:
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


def resolve_counts(size: str = 'default',
                   counts: Optional[Dict[str, int]] = None) -> dict:
    """Image counts of a size preset, with optional overrides.

    Args:
        size (str): ``'tiny'``, ``'small'`` or ``'default'``.
        counts (dict, optional): Overrides for keys of ``SIZES[size]``
            (``cls_train``, ``cls_val`` (per class), ``det_train``,
            ``det_val``, ``seg_train``, ``seg_val``). Defaults to None.

    Returns:
        dict: The six counts.
    """
    _check_choice('size', size, tuple(SIZES))
    resolved = dict(SIZES[size])
    for key, value in (counts or {}).items():
        _check_choice('counts key', key, tuple(resolved))
        if value is not None:
            _check_int(key, value, 1)
            resolved[key] = value
    return resolved


def write_demo_data(root,
                    size: str = 'default',
                    seed: int = 0,
                    overwrite: bool = False,
                    counts: Optional[Dict[str, int]] = None) -> dict:
    """Write all three sets under ``root/cls``, ``root/det``, ``root/seg``.

    Sizes (``SIZES``): ``'tiny'`` (unit tests: 40 + 20 classification, 4 + 2
    detection and segmentation images), ``'small'`` (a quick end-to-end
    run: 160 + 80, 32 + 8, 32 + 8) and ``'default'`` (the CPU demo: 1600 +
    400, 400 + 100, 400 + 100).

    Args:
        root (str | PathLike): Output folder.
        size (str): Preset name. Defaults to ``'default'``.
        seed (int): Non-negative seed. Defaults to 0.
        overwrite (bool): Passed to each writer. Defaults to False.
        counts (dict, optional): Overrides, see :func:`resolve_counts`.

    Returns:
        dict: ``root``, ``size``, ``seed``, ``counts`` and the writers'
        results under ``cls``, ``det`` and ``seg``.
    """
    resolved = resolve_counts(size, counts)
    _check_int('seed', seed, 0)
    root = os.fspath(root)
    for task, names in _OUTPUTS.items():  # fail before writing anything
        existing = _existing(osp.join(root, task), names)
        if existing and not overwrite:
            raise _exists_error(existing[0])
    cls = write_classification_set(
        osp.join(root, 'cls'),
        resolved['cls_train'],
        resolved['cls_val'],
        seed=seed,
        overwrite=overwrite)
    det = write_coco_detection_set(
        osp.join(root, 'det'),
        resolved['det_train'],
        resolved['det_val'],
        seed=seed,
        overwrite=overwrite)
    seg = write_voc_segmentation_set(
        osp.join(root, 'seg'),
        resolved['seg_train'],
        resolved['seg_val'],
        seed=seed,
        overwrite=overwrite)
    return dict(
        root=root,
        size=size,
        seed=seed,
        counts=resolved,
        cls=cls,
        det=det,
        seg=seg)
