"""The cheap pictures the fake image services paint: a toy figure whose round head is the photo's centre.

Both the ComfyUI and the Gemini fake paint with these, so a picture depends on the photo, the seed and
the size, and code under test can tell a figure on a plain backdrop from a whole box::

    photo = open_photo(uploaded_bytes)
    figure = paint_figure((832, 1248), photo, seed=7)  # BACKGROUND around the toy
    box = paint_package((832, 1248), photo, seed=7)  # full bleed: a coloured card with a window
    assert figure.getpixel((2, 2)) == BACKGROUND != box.getpixel((2, 2))
"""

from __future__ import annotations

import colorsys
import io
import random
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageOps

BACKGROUND = (244, 244, 244)
"""The plain near-white backdrop of ``paint_figure``."""
PACKAGING = "Package the figure"
"""The words of figurebot's prompt that ask for the whole box (``bot.generators.prompts``)."""


class Palette(NamedTuple):
    """The colours and the accessory of one seed."""

    body: tuple[int, int, int]
    limbs: tuple[int, int, int]
    legs: tuple[int, int, int]
    accessory: tuple[int, int, int]
    card: tuple[int, int, int]
    shape: int
    stripes: int


def palette(seed: int) -> Palette:
    """The colours and accessory a seed picks, always the same ones for a seed."""
    rng = random.Random(seed)
    hue = rng.random()
    return Palette(
        body=_hsv(hue, 0.7, 0.85),
        limbs=_hsv(hue, 0.75, 0.65),
        legs=_hsv(hue, 0.6, 0.4),
        accessory=_hsv(hue + 0.5, 0.8, 0.9),
        card=_hsv(hue + 0.25, 0.75, 0.7),
        shape=rng.randrange(3),
        stripes=rng.randrange(4),
    )


def open_photo(data: bytes | None) -> Image.Image | None:
    """The uploaded photo upright in RGB, or ``None`` when there is none or Pillow cannot read it."""
    if data is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError):
        return None


def draw_figure(
    canvas: Image.Image, box: tuple[float, float, float, float], photo: Image.Image | None, palette: Palette
) -> None:
    """A toy figure filling ``box``: the photo's centre as a round head, a body, an accessory at its right."""
    x0, y0, x1, y1 = box
    fw, fh = x1 - x0, y1 - y0
    cx = x0 + 0.36 * fw
    radius = max(1, round(0.03 * min(fw, fh)))
    draw = ImageDraw.Draw(canvas)
    leg_top = y0 + 0.56 * fh
    draw.rounded_rectangle(_rect(cx - 0.2 * fw, leg_top, cx - 0.02 * fw, y1), radius, fill=palette.legs)
    draw.rounded_rectangle(_rect(cx + 0.02 * fw, leg_top, cx + 0.2 * fw, y1), radius, fill=palette.legs)
    draw.rounded_rectangle(
        _rect(x0, y0 + 0.28 * fh, x0 + 0.12 * fw, y0 + 0.56 * fh), radius, fill=palette.limbs
    )
    draw.rounded_rectangle(
        _rect(x0 + 0.6 * fw, y0 + 0.28 * fh, x0 + 0.72 * fw, y0 + 0.56 * fh), radius, fill=palette.limbs
    )
    draw.rounded_rectangle(
        _rect(cx - 0.23 * fw, y0 + 0.26 * fh, cx + 0.23 * fw, y0 + 0.6 * fh), radius * 2, fill=palette.body
    )
    for index in range(palette.stripes):
        top = y0 + (0.33 + 0.07 * index) * fh
        draw.rectangle(_rect(cx - 0.23 * fw, top, cx + 0.23 * fw, top + 0.025 * fh), fill=palette.accessory)
    draw.rectangle(
        _rect(cx - 0.05 * fw, y0 + 0.22 * fh, cx + 0.05 * fw, y0 + 0.27 * fh), fill=(225, 185, 150)
    )
    size = max(2, round(min(0.25 * fh, 0.46 * fw)))
    face = (
        ImageOps.fit(photo, (size, size))
        if photo is not None
        else Image.new("RGB", (size, size), (225, 185, 150))
    )
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, size - 1, size - 1), fill=255)
    left, top = round(cx - size / 2), round(y0)
    canvas.paste(face, (left, top), mask)
    draw.ellipse((left, top, left + size - 1, top + size - 1), outline=palette.legs, width=max(1, size // 40))
    ax0, ax1, ay0, ay1 = x0 + 0.8 * fw, x1, y0 + 0.3 * fh, y0 + 0.62 * fh
    if palette.shape == 0:  # a shield
        draw.ellipse(
            _rect(ax0, ay0, ax1, ay0 + (ax1 - ax0) * 1.3), fill=palette.accessory, outline=palette.legs
        )
    elif palette.shape == 1:  # a pennant
        draw.rectangle(_rect(ax0, ay0, ax0 + 0.02 * fw, ay1), fill=palette.legs)
        draw.polygon([(ax0, ay0), (ax1, (ay0 * 3 + ay1) / 4), (ax0, (ay0 + ay1) / 2)], fill=palette.accessory)
    else:  # a sword
        middle = (ax0 + ax1) / 2
        draw.rectangle(_rect(middle - 0.025 * fw, ay0, middle + 0.025 * fw, ay1), fill=palette.accessory)
        draw.rectangle(_rect(ax0, ay1 - 0.06 * fh, ax1, ay1 - 0.04 * fh), fill=palette.legs)


def paint_figure(size: tuple[int, int], photo: Image.Image | None, seed: int) -> Image.Image:
    """The figure alone, on a plain near-white background, about 60% of the width and 85% of the height."""
    width, height = size
    canvas = Image.new("RGB", size, BACKGROUND)
    draw_figure(canvas, (0.2 * width, 0.075 * height, 0.8 * width, 0.925 * height), photo, palette(seed))
    return canvas


def paint_package(size: tuple[int, int], photo: Image.Image | None, seed: int) -> Image.Image:
    """The figure in its box, full bleed: a coloured card with a title band and a window."""
    width, height = size
    colours = palette(seed)
    canvas = Image.new("RGB", size, colours.card)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle(_rect(0, 0, width, 0.14 * height), fill=colours.legs)
    draw.rounded_rectangle(
        _rect(0.15 * width, 0.04 * height, 0.85 * width, 0.1 * height), 4, fill=(250, 250, 250)
    )
    wx0, wy0, wx1, wy1 = 0.12 * width, 0.18 * height, 0.88 * width, 0.94 * height
    border = max(2, width // 150)
    draw.rounded_rectangle(
        _rect(wx0, wy0, wx1, wy1), 2 * border, fill=(236, 242, 248), outline=(255, 255, 255), width=border
    )
    ww, wh = wx1 - wx0, wy1 - wy0
    draw_figure(canvas, (wx0 + 0.2 * ww, wy0 + 0.075 * wh, wx0 + 0.8 * ww, wy0 + 0.925 * wh), photo, colours)
    draw.line(
        [(wx0 + 0.1 * ww, wy1 - 0.05 * wh), (wx0 + 0.35 * ww, wy0 + 0.05 * wh)],
        fill=(255, 255, 255),
        width=border,
    )
    return canvas


def paint(size: tuple[int, int], photo: Image.Image | None, seed: int, *, whole_box: bool) -> Image.Image:
    """``paint_package`` when the whole box is asked for, else ``paint_figure``."""
    return (paint_package if whole_box else paint_figure)(size, photo, seed)


def _hsv(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def _rect(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    left, top = round(x0), round(y0)
    return left, top, max(left, round(x1)), max(top, round(y1))
