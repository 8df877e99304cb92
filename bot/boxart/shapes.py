"""Small drawing helpers: anti-aliased shapes, colour mixing, gradients, soft shadows."""

from __future__ import annotations

import math
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]
Rect = tuple[int, int, int, int]
SUPERSAMPLE = 3


def mix(a: RGB, b: RGB, amount: float) -> RGB:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    return tuple(round(x + (y - x) * amount) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def shade(colour: RGB, amount: float) -> RGB:
    """Darker (negative ``amount``) or lighter (positive) version of ``colour``."""
    return mix(colour, (0, 0, 0) if amount < 0 else (255, 255, 255), abs(amount))


Point = tuple[float, float]


def polygon_mask(size: tuple[int, int], polygons: list[list[Point]]) -> Image.Image:
    """An anti-aliased ``L`` mask of filled ``polygons``; only their bounding box is supersampled."""
    xs = [x for polygon in polygons for x, _ in polygon]
    ys = [y for polygon in polygons for _, y in polygon]
    left, top = max(0, math.floor(min(xs))), max(0, math.floor(min(ys)))
    right, bottom = min(size[0], math.ceil(max(xs)) + 1), min(size[1], math.ceil(max(ys)) + 1)
    mask = Image.new("L", size, 0)
    if right <= left or bottom <= top:
        return mask
    k = SUPERSAMPLE
    big = Image.new("L", ((right - left) * k, (bottom - top) * k), 0)
    draw = ImageDraw.Draw(big)
    for polygon in polygons:
        draw.polygon([((x - left) * k, (y - top) * k) for x, y in polygon], fill=255)
    mask.paste(big.resize((right - left, bottom - top), Image.Resampling.BOX), (left, top))
    return mask


@lru_cache(maxsize=128)
def rounded(size: tuple[int, int], rect: Rect, radius: int, width: int = 0) -> Image.Image:
    """Anti-aliased mask of a rounded rectangle (outline only when ``width`` > 0); shared, do not modify."""
    left, top, right, bottom = rect
    k = SUPERSAMPLE
    big = Image.new("L", ((right - left + 1) * k, (bottom - top + 1) * k), 0)
    box = (0, 0, (right - left) * k, (bottom - top) * k)
    if width:
        ImageDraw.Draw(big).rounded_rectangle(box, radius * k, outline=255, width=width * k)
    else:
        ImageDraw.Draw(big).rounded_rectangle(box, radius * k, fill=255)
    mask = Image.new("L", size, 0)
    mask.paste(big.resize((right - left + 1, bottom - top + 1), Image.Resampling.BOX), (left, top))
    return mask


def blurred(mask: Image.Image, radius: float) -> Image.Image:
    """``mask`` with a Gaussian blur, computed only around what the mask covers."""
    box = mask.getbbox()
    if box is None:
        return mask.copy()
    reach = math.ceil(radius * 3)
    area = (
        max(0, box[0] - reach),
        max(0, box[1] - reach),
        min(mask.width, box[2] + reach),
        min(mask.height, box[3] + reach),
    )
    result = Image.new("L", mask.size, 0)
    result.paste(mask.crop(area).filter(ImageFilter.GaussianBlur(radius)), area[:2])
    return result


def fill(canvas: Image.Image, mask: Image.Image, colour: RGB, opacity: float = 1.0) -> None:
    """Paint ``colour`` onto RGBA ``canvas`` through ``mask`` at ``opacity`` (only where the mask covers)."""
    box = mask.getbbox()
    if box is None or opacity <= 0:
        return
    mask = mask.crop(box)
    if opacity < 1.0:
        mask = mask.point(lambda v: round(v * opacity))
    layer = Image.new("RGBA", mask.size, (*colour, 0))
    layer.putalpha(mask)
    canvas.alpha_composite(layer, box[:2])


def vertical_gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """An RGB image fading from ``top`` to ``bottom``."""
    column = Image.new("RGB", (1, 256))
    column.putdata([mix(top, bottom, i / 255) for i in range(256)])
    return column.resize(size, Image.Resampling.BILINEAR)


def shadow(
    canvas: Image.Image, mask: Image.Image, offset: tuple[int, int], blur: float, opacity: float
) -> None:
    """A soft dark shadow of ``mask`` on ``canvas``, shifted by ``offset``."""
    moved = Image.new("L", mask.size, 0)
    moved.paste(mask, offset)
    fill(canvas, blurred(moved, blur), (0, 0, 0), opacity)
