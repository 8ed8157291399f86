"""Scenes of the demo world: sampling objects and rendering images.

Everything draws from the generator it is given (see
:func:`~mixskd_mm.demo.world.image_rng`), so an image depends only on the
seed and its key. :func:`coco_annotation` and :func:`label_map` turn a
rendered scene into its detection and segmentation labels.
"""
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from .world import (IGNORE_INDEX, SHAPES, TEXTURES, ObjectSpec, check_choice,
                    rasterize_polygon, render_texture, shape_polygon)


#: Largest tilt (radians) of a shape and of its texture: 18 degrees either
#: way. Objects stand roughly upright so that the demo's minutes of training
#: learn shape and texture: in an in-memory test (ResNet-18 of width 32,
#: 64 px, 8000 images, lr 0.01, 900 iterations) uniform 0-360 degree
#: rotations gave 34 % top-1 and this tilt 84 %.
MAX_TILT = np.pi / 10


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
    check_choice('shape', shape, SHAPES)
    check_choice('texture', texture, TEXTURES)
    colors = sample_colors(rng, background)
    angle = rng.uniform(-MAX_TILT, MAX_TILT)
    period = max(4.5, radius * rng.uniform(0.3, 0.5))
    texture_angle = rng.uniform(-MAX_TILT, MAX_TILT)
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
