"""The demo's synthetic world: shapes painted with textures.

Every image shows objects that are **shapes** (``SHAPES``: circle, cross,
square, star, triangle) painted with **textures** (``TEXTURES``: checker,
dots, solid, stripes) in random colours, on a noisy background (a random
base colour, a smooth low-frequency colour field and per-pixel grain). Each
object gets a random position, scale, tilt (within 18 degrees of upright,
``scenes.MAX_TILT``), texture period, texture tilt and texture phase. The
random draws are the same for every class (the class only decides what is
painted), so colour, size and position carry no information about the
label. Edges are anti-aliased by 4x supersampling.

Determinism: image ``i`` of a split is drawn from
``numpy.random.SeedSequence(seed, spawn_key=(task, split, [label,] i))``
(:func:`image_rng`), so it is the same whatever the number of images
written, and the same seed gives byte-identical annotation files and
identical images. No global random state is used.
"""
from typing import NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np

SHAPES = ('circle', 'cross', 'square', 'star', 'triangle')
TEXTURES = ('checker', 'dots', 'solid', 'stripes')
CLS_CLASSES = tuple(f'{s}_{t}' for s in SHAPES for t in TEXTURES)
DET_CLASSES = SHAPES
SEG_CLASSES = ('background', ) + SHAPES
IGNORE_INDEX = 255

SUPERSAMPLE = 4
_SHIFT = 4
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


def check_int(name: str,
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


def check_choice(name: str, value, choices: Sequence[str]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(
            f'{name} must be one of {tuple(choices)}, got {value!r}')


def image_rng(seed: int, *key: int) -> np.random.Generator:
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
    check_choice('shape', shape, SHAPES)
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
    s = SUPERSAMPLE
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
    check_choice('texture', texture, TEXTURES)
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
