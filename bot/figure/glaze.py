"""The glossy plastic look for a pet or an object: cut it out and paint it like a moulded toy."""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageChops, ImageEnhance, ImageFilter

Box = tuple[int, int, int, int]
BILINEAR = Image.Resampling.BILINEAR


def subject_box(mask: Image.Image) -> Box:
    """Bounding box of the confident part of ``mask``, or the whole image when it is empty."""
    box = mask.point(lambda v: 255 if v > 96 else 0).getbbox()
    return box or (0, 0, *mask.size)


def _fit(box: Box, limit: tuple[int, int]) -> tuple[int, int]:
    """Size of ``box`` scaled to fit ``limit``."""
    width, height = box[2] - box[0], box[3] - box[1]
    scale = min(limit[0] / width, limit[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _plastic(rgb: Image.Image, softness: float) -> Image.Image:
    """Smooth fur and surfaces into moulded plastic, keep the edges, boost the paint.

    ``softness`` is the blur radius as a fraction of the width.
    """
    half = rgb.reduce(2) if min(rgb.size) >= 64 else rgb
    radius = max(1.0, half.width * softness)
    smooth = half.filter(ImageFilter.GaussianBlur(radius)).resize(rgb.size, BILINEAR)
    edges = rgb.convert("L").filter(ImageFilter.FIND_EDGES).filter(ImageFilter.BoxBlur(2))
    keep = edges.point(lambda v: min(140, v * 2))
    painted = Image.composite(rgb, smooth, keep)
    painted = ImageEnhance.Color(painted).enhance(1.45)
    return ImageEnhance.Contrast(painted).enhance(1.18)


@lru_cache(maxsize=4)
def _sheen(size: tuple[int, int]) -> Image.Image:
    """A soft light falling from the top left, as an ``L`` mask."""
    ramp = Image.linear_gradient("L").rotate(45, resample=BILINEAR, expand=True).crop((91, 91, 271, 271))
    return ramp.point(lambda v: round((255 - v) * 0.24)).resize(size, BILINEAR)


def _gloss(painted: Image.Image, alpha: Image.Image) -> Image.Image:
    """Add specular highlights, the top-left sheen and a rim light along the silhouette."""
    highlight = painted.convert("L").point(lambda v: min(180, max(0, round((v - 150) * 1.8))))
    highlight = highlight.filter(ImageFilter.GaussianBlur(max(1.0, painted.width / 300)))
    rim = ImageChops.subtract(alpha, alpha.filter(ImageFilter.BoxBlur(3)), scale=0.6)
    light = ImageChops.add(ImageChops.add(highlight, _sheen(painted.size)), rim)
    return Image.composite(Image.new("RGB", painted.size, "white"), painted, light)


def make_toy(image: Image.Image, mask: Image.Image, limit: tuple[int, int]) -> Image.Image:
    """The subject of ``image`` where ``mask`` is set, as an RGBA plastic toy fitted inside ``limit``."""
    box = subject_box(mask)
    size = _fit(box, limit)
    rgb = image.resize(size, Image.Resampling.BICUBIC, box=box, reducing_gap=2.0)
    alpha = mask.resize(size, Image.Resampling.BILINEAR, box=box)
    toy = _gloss(_plastic(rgb, 1 / 260), alpha)
    toy.putalpha(alpha)
    return toy
