"""Repeating card patterns (stars, stripes, bolts…) drawn as coverage masks."""

from __future__ import annotations

import math
from collections.abc import Callable

from PIL import Image, ImageDraw

Size = tuple[int, int]
Painter = Callable[[ImageDraw.ImageDraw, Size, int], None]


def _grid(size: Size, step: int, stagger: bool = True) -> list[tuple[int, int]]:
    """Cell centres covering ``size``, every other row shifted by half a step."""
    width, height = size
    points = []
    for row, y in enumerate(range(-step, height + step, step)):
        shift = step // 2 if stagger and row % 2 else 0
        points.extend((x + shift, y) for x in range(-step, width + step, step))
    return points


def star_points(cx: float, cy: float, outer: float, inner: float, tips: int) -> list[tuple[float, float]]:
    """Vertices of a star with ``tips`` points, pointing up."""
    points = []
    for i in range(tips * 2):
        radius = outer if i % 2 == 0 else inner
        angle = math.pi * i / tips - math.pi / 2
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _stars(draw: ImageDraw.ImageDraw, size: Size, unit: int) -> None:
    for x, y in _grid(size, unit * 5):
        draw.polygon(star_points(x, y, unit * 1.2, unit * 0.5, 5), fill=255)


def _sparkles(draw: ImageDraw.ImageDraw, size: Size, unit: int) -> None:
    for i, (x, y) in enumerate(_grid(size, unit * 4)):
        scale = 1.0 if i % 3 else 0.6
        draw.polygon(star_points(x, y, unit * 1.3 * scale, unit * 0.25 * scale, 4), fill=255)


def _stripes(draw: ImageDraw.ImageDraw, size: Size, unit: int) -> None:
    width, height = size
    step = unit * 4
    for x in range(-height, width + height, step):
        draw.polygon(
            [(x, 0), (x + unit * 2, 0), (x + unit * 2 + height, height), (x + height, height)], fill=255
        )


def _dots(draw: ImageDraw.ImageDraw, size: Size, unit: int) -> None:
    radius = unit * 0.8
    for x, y in _grid(size, unit * 3):
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)


def _checker(draw: ImageDraw.ImageDraw, size: Size, unit: int) -> None:
    step = unit * 3
    width, height = size
    for row, y in enumerate(range(0, height, step)):
        for col, x in enumerate(range(0, width, step)):
            if (row + col) % 2 == 0:
                draw.rectangle((x, y, x + step - 1, y + step - 1), fill=255)


def _bolts(draw: ImageDraw.ImageDraw, size: Size, unit: int) -> None:
    shape = [(0.2, -1.6), (-0.7, 0.2), (0.0, 0.2), (-0.3, 1.6), (0.8, -0.3), (0.1, -0.3), (0.5, -1.6)]
    for x, y in _grid(size, unit * 5):
        draw.polygon([(x + px * unit, y + py * unit) for px, py in shape], fill=255)


def _waves(draw: ImageDraw.ImageDraw, size: Size, unit: int) -> None:
    width, height = size
    step = unit * 3
    for base in range(-step, height + step, step):
        points = [
            (x, base + math.sin(x / (unit * 2.0)) * unit) for x in range(0, width + unit, max(1, unit // 2))
        ]
        draw.line(points, fill=255, width=max(2, unit // 2))


def _lines(draw: ImageDraw.ImageDraw, size: Size, unit: int) -> None:
    width, height = size
    step, thickness = unit * 3, max(1, unit // 4)
    for x in range(0, width, step):
        draw.rectangle((x, 0, x + thickness, height), fill=255)
    for y in range(0, height, step):
        draw.rectangle((0, y, width, y + thickness), fill=255)


def _rays(draw: ImageDraw.ImageDraw, size: Size, unit: int) -> None:
    width, height = size
    cx, cy = width / 2, height * 0.45
    reach = math.hypot(width, height)
    count = 24
    for i in range(count):
        a0 = 2 * math.pi * i / count
        a1 = a0 + math.pi / count
        draw.polygon(
            [
                (cx, cy),
                (cx + reach * math.cos(a0), cy + reach * math.sin(a0)),
                (cx + reach * math.cos(a1), cy + reach * math.sin(a1)),
            ],
            fill=255,
        )


def _hex(draw: ImageDraw.ImageDraw, size: Size, unit: int) -> None:
    radius = unit * 1.6
    for x, y in _grid(size, int(radius * 2.2)):
        corners = [
            (x + radius * math.cos(math.pi / 3 * k), y + radius * math.sin(math.pi / 3 * k)) for k in range(6)
        ]
        draw.polygon(corners, outline=255, width=max(2, unit // 3))


PAINTERS: dict[str, Painter] = {
    "stars": _stars,
    "sparkles": _sparkles,
    "stripes": _stripes,
    "dots": _dots,
    "checker": _checker,
    "bolts": _bolts,
    "waves": _waves,
    "grid": _lines,
    "rays": _rays,
    "hex": _hex,
}


def pattern_mask(pattern: str, size: Size, unit: int) -> Image.Image:
    """An ``L`` mask of ``pattern`` (255 where the motif is) tiled over ``size``; unknown names give stars."""
    mask = Image.new("L", size, 0)
    PAINTERS.get(pattern, _stars)(ImageDraw.Draw(mask), size, max(4, unit))
    return mask
