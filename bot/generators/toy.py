"""The glossy plastic look: cut the subject out and paint it like a moulded toy."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from bot.generators.segmentation import Cutout

Box = tuple[int, int, int, int]


def _subject_box(mask: Image.Image) -> Box:
    """Bounding box of the confident part of ``mask``, or the whole image when it is empty."""
    box = mask.point(lambda v: 255 if v > 96 else 0).getbbox()
    return box or (0, 0, *mask.size)


def _fit(box: Box, limit: tuple[int, int], spill: float) -> tuple[int, int]:
    """Size of ``box`` scaled to fit ``limit``, allowed to be ``spill`` times wider (the window clips it)."""
    width, height = box[2] - box[0], box[3] - box[1]
    scale = min(limit[0] * spill / width, limit[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _face_weight(size: tuple[int, int], face: Box | None) -> np.ndarray:
    """Per-pixel weight in [0, 1]: 1 on the face (keep detail), 0 elsewhere, feathered."""
    weight = Image.new("L", size, 0)
    if face is not None:
        left, top, right, bottom = face
        pad_x, pad_y = (right - left) * 0.15, (bottom - top) * 0.2
        ImageDraw.Draw(weight).ellipse((left - pad_x, top - pad_y, right + pad_x, bottom + pad_y), fill=255)
        weight = weight.filter(ImageFilter.GaussianBlur(max(2, (right - left) / 6)))
    return np.asarray(weight, dtype=np.float32) / 255.0


def _plastic(rgb: Image.Image, face: Box | None) -> np.ndarray:
    """Smooth skin and cloth into moulded surfaces, keep the face's detail, boost paint colours."""
    radius = max(2.0, rgb.width / 110)
    smooth = np.asarray(rgb.filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32)
    original = np.asarray(rgb, dtype=np.float32)
    edges = np.asarray(
        rgb.convert("L").filter(ImageFilter.FIND_EDGES).filter(ImageFilter.BoxBlur(2)), dtype=np.float32
    )
    keep = np.clip(edges / 60.0, 0.0, 1.0) * 0.45
    keep = np.maximum(keep, _face_weight(rgb.size, face) * 0.7)[..., None]
    painted = smooth * (1.0 - keep) + original * keep
    image = Image.fromarray(np.clip(painted, 0, 255).astype(np.uint8))
    image = ImageEnhance.Color(image).enhance(1.45)
    image = ImageEnhance.Contrast(image).enhance(1.18)
    return np.asarray(image, dtype=np.float32)


def _gloss(painted: np.ndarray, alpha: Image.Image) -> np.ndarray:
    """Add specular highlights, a top-left sheen and a rim light along the silhouette."""
    height, width = painted.shape[:2]
    luma = painted @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    highlight = Image.fromarray(np.clip((luma - 150.0) * 2.6, 0, 255).astype(np.uint8))
    highlight = np.asarray(
        highlight.filter(ImageFilter.GaussianBlur(max(1.0, width / 300))), dtype=np.float32
    )
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    sheen = np.clip(1.0 - (xs / width + ys / height) * 0.9, 0.0, 1.0) * 60.0
    rim_source = alpha.filter(ImageFilter.MinFilter(5))
    rim = np.asarray(alpha, dtype=np.float32) - np.asarray(rim_source, dtype=np.float32)
    rim = np.asarray(
        Image.fromarray(rim.astype(np.uint8)).filter(ImageFilter.GaussianBlur(2)), dtype=np.float32
    )
    light = (highlight * 0.7 + sheen + rim * 0.6)[..., None] / 255.0
    return painted + (255.0 - painted) * np.clip(light, 0.0, 1.0)


def make_toy(image: Image.Image, cutout: Cutout, limit: tuple[int, int]) -> Image.Image:
    """The subject of ``image`` as an RGBA plastic toy sized for a window of ``limit`` (width, height).

    A person may be up to a third wider than the window, like a bust pressed against the blister;
    anything else keeps inside it.
    """
    box = _subject_box(cutout.mask)
    size = _fit(box, limit, 1.35 if cutout.person_found else 1.0)
    rgb = image.resize(size, Image.Resampling.BICUBIC, box=box, reducing_gap=2.0)
    alpha = cutout.mask.resize(size, Image.Resampling.BILINEAR, box=box)
    face = None
    if cutout.face is not None:
        scale = size[0] / (box[2] - box[0])
        face = tuple(
            round((value - offset) * scale) for value, offset in zip(cutout.face, box[:2] * 2, strict=True)
        )
    finished = _gloss(_plastic(rgb, face), alpha)
    toy = Image.fromarray(np.clip(finished, 0, 255).astype(np.uint8))
    toy.putalpha(alpha)
    return toy
