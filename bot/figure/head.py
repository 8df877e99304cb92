"""The toy's head: the person's own face and hair, cut from the photo and finished like painted plastic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter

from bot.figure.plastic import RGB, Light, relight

Box = tuple[int, int, int, int]

ABOVE, BELOW, SIDE = 0.62, 0.1, 0.95  # crop around the face box, in face heights / widths
FACE_HEADS = 0.9  # the face box's height on the toy, in head units


@dataclass(frozen=True)
class Head:
    """The cut-out head (RGBA) and where its face box lies inside it, in its own pixels."""

    image: Image.Image
    face: tuple[float, float, float, float]
    skin: RGB


def portrait_face(size: tuple[int, int]) -> Box:
    """Where the face of a portrait usually is, for when no face detector can run: top middle."""
    width, height = size
    side = min(width, height) * 0.25
    left, top = (width - side) / 2, height * 0.16
    return round(left), round(top), round(left + side), round(top + side * 1.15)


def skin_tone(image: Image.Image, face: Box) -> RGB:
    """The median colour of the cheeks and nose: the person's skin, for the neck and hands."""
    left, top, right, bottom = face
    width, height = right - left, bottom - top
    patch = image.crop(
        (left + width * 0.25, top + height * 0.45, right - width * 0.25, bottom - height * 0.3)
    )
    pixels = np.asarray(patch.convert("RGB")).reshape(-1, 3)
    if not len(pixels):
        return (224, 172, 140)
    return tuple(int(value) for value in np.median(pixels, axis=0))  # type: ignore[return-value]


def _head_shape(size: tuple[int, int], face: tuple[float, float, float, float]) -> Image.Image:
    """Where a head is in the crop: the skull and hair above the cheeks, the face and jaw below them."""
    left, top, right, bottom = face
    width, height = right - left, bottom - top
    cx = (left + right) / 2
    shape = Image.new("L", size, 0)
    draw = ImageDraw.Draw(shape)
    skull_bottom = top + height * 0.62
    draw.ellipse(
        (cx - width * 0.78, top - height * 0.62, cx + width * 0.78, skull_bottom + height * 0.25), fill=255
    )
    draw.rectangle((0, skull_bottom, size[0], size[1]), fill=0)
    draw.ellipse((cx - width * 0.5, top - height * 0.1, cx + width * 0.5, bottom + height * 0.06), fill=255)
    return shape.filter(ImageFilter.GaussianBlur(max(1.0, width * 0.015)))


def cut_head(photo: Image.Image, mask: Image.Image, face: Box, unit: float, light: Light) -> Head:
    """The head of the person whose face is ``face`` in ``photo``, scaled so one head unit is ``unit`` px."""
    left, top, right, bottom = face
    width, height = right - left, bottom - top
    crop = (
        round(left - width * SIDE),
        round(top - height * ABOVE),
        round(right + width * SIDE),
        round(bottom + height * BELOW),
    )
    scale = FACE_HEADS * unit / height
    size = (max(1, round((crop[2] - crop[0]) * scale)), max(1, round((crop[3] - crop[1]) * scale)))
    rgb = photo.crop(crop).resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    cut = mask.crop(crop).resize(size, Image.Resampling.BILINEAR)
    face_here = (
        (left - crop[0]) * scale,
        (top - crop[1]) * scale,
        (right - crop[0]) * scale,
        (bottom - crop[1]) * scale,
    )
    alpha = ImageChops.multiply(cut, _head_shape(size, face_here))
    painted = ImageEnhance.Contrast(ImageEnhance.Color(rgb.filter(ImageFilter.SMOOTH)).enhance(1.15)).enhance(
        1.06
    )
    head = relight(painted, alpha, unit * 0.18, light, strength=0.45)
    return Head(head, face_here, skin_tone(photo, face))
