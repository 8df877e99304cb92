"""Encoding a finished figure into a file that every chat platform accepts."""

from __future__ import annotations

import io

from PIL import Image

FORMATS = ("png", "jpeg", "webp")
MAX_OUTPUT_BYTES = 10 * 1024 * 1024


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "png":
        image.save(buffer, "PNG", compress_level=3)
    elif fmt == "jpeg":
        image.save(buffer, "JPEG", quality=92, optimize=False, subsampling="4:2:0")
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=90, method=4)
    else:
        raise ValueError(f"unknown figure format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return buffer.getvalue()


def encode_figure(image: Image.Image, fmt: str = "png") -> bytes:
    """``image`` as PNG, JPEG or WebP bytes, always under 10 MB (scaled down if ever needed)."""
    data = _encode(image, fmt)
    while len(data) > MAX_OUTPUT_BYTES:
        scale = (MAX_OUTPUT_BYTES / len(data)) ** 0.5 * 0.95
        image = image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
        )
        data = _encode(image, fmt)
    return data


def small_jpeg(image: Image.Image, side: int) -> bytes:
    """``image`` as a JPEG that fits in a ``side``-pixel square: previews and challenge entries in chats."""
    small = image.convert("RGB")
    small.thumbnail((side, side))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def small_jpeg_of(data: bytes, side: int) -> bytes | None:
    """Encoded figure ``data`` as a small JPEG (see ``small_jpeg``); ``None`` if it cannot be read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return small_jpeg(image, side)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
