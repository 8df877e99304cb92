"""The glossy plastic look: cut the subject out and paint it like a moulded toy."""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter

from bot.generators.segmentation import Cutout

Box = tuple[int, int, int, int]
BILINEAR = Image.Resampling.BILINEAR


def subject_box(mask: Image.Image) -> Box:
    """Bounding box of the confident part of ``mask``, or the whole image when it is empty."""
    box = mask.point(lambda v: 255 if v > 96 else 0).getbbox()
    return box or (0, 0, *mask.size)


def _fit(box: Box, limit: tuple[int, int], spill: float) -> tuple[int, int]:
    """Size of ``box`` scaled to fit ``limit``, allowed to be ``spill`` times wider (the window clips it)."""
    width, height = box[2] - box[0], box[3] - box[1]
    scale = min(limit[0] * spill / width, limit[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _face_mask(size: tuple[int, int], face: Box | None) -> Image.Image:
    """An ``L`` mask of how much photo detail to keep: most of it on the face, none elsewhere."""
    weight = Image.new("L", size, 0)
    if face is not None:
        left, top, right, bottom = face
        pad_x, pad_y = (right - left) * 0.15, (bottom - top) * 0.2
        ImageDraw.Draw(weight).ellipse((left - pad_x, top - pad_y, right + pad_x, bottom + pad_y), fill=180)
        weight = weight.filter(ImageFilter.GaussianBlur(max(2, (right - left) / 6)))
    return weight


def _plastic(rgb: Image.Image, face: Box | None, softness: float) -> Image.Image:
    """Smooth skin and cloth into moulded surfaces, keep edges and the face's detail, boost the paint.

    ``softness`` is the blur radius as a fraction of the width: strong for a person's clothes,
    light for a framed object photo.
    """
    half = rgb.reduce(2) if min(rgb.size) >= 64 else rgb
    radius = max(1.0, half.width * softness)
    smooth = half.filter(ImageFilter.GaussianBlur(radius)).resize(rgb.size, BILINEAR)
    edges = rgb.convert("L").filter(ImageFilter.FIND_EDGES).filter(ImageFilter.BoxBlur(2))
    keep = ImageChops.lighter(edges.point(lambda v: min(115, v * 2)), _face_mask(rgb.size, face))
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


def make_toy(image: Image.Image, cutout: Cutout, limit: tuple[int, int]) -> Image.Image:
    """The subject of ``image`` as an RGBA plastic toy sized for a window of ``limit`` (width, height).

    A person may be up to a third wider than the window, like a bust pressed against the blister;
    anything else keeps inside it.
    """
    box = subject_box(cutout.mask)
    size = _fit(box, limit, 1.35 if cutout.person_found else 1.0)
    rgb = image.resize(size, Image.Resampling.BICUBIC, box=box, reducing_gap=2.0)
    alpha = cutout.mask.resize(size, Image.Resampling.BILINEAR, box=box)
    face = None
    if cutout.face is not None:
        scale = size[0] / (box[2] - box[0])
        face = tuple(
            round((value - offset) * scale) for value, offset in zip(cutout.face, box[:2] * 2, strict=True)
        )
    toy = _gloss(_plastic(rgb, face, 1 / 110 if cutout.person_found else 1 / 400), alpha)
    toy.putalpha(alpha)
    return toy
