"""Moulded-plastic shading: turn a flat piece (a mask and a colour) into a rounded, glossy part.

The piece's own silhouette gives its relief: the mask is blurred into a height field whose slopes
are the surface normals, lit by one key light with a specular highlight, like injection-moulded
plastic under shop lights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Light:
    """Where the key light comes from (x right, y down, z toward the viewer) and how shiny the plastic is."""

    direction: tuple[float, float, float] = (-0.45, -0.6, 0.66)
    shininess: float = 28.0
    gloss: float = 0.55

    def unit(self) -> np.ndarray:
        vector = np.asarray(self.direction, dtype=np.float32)
        return vector / np.linalg.norm(vector)


def _box_blur(values: np.ndarray, size: int, axis: int) -> np.ndarray:
    """A running mean of ``size`` samples along ``axis``, the edges held (float, no banding)."""
    before, after = size // 2, size - size // 2 - 1
    pad = [(0, 0), (0, 0)]
    pad[axis] = (before + 1, after)
    total = np.cumsum(np.pad(values, pad, mode="edge"), axis=axis)
    upper = np.take(total, np.arange(size, total.shape[axis]), axis=axis)
    lower = np.take(total, np.arange(0, total.shape[axis] - size), axis=axis)
    return (upper - lower) / size


def _soften(values: np.ndarray, radius: float) -> np.ndarray:
    """About a Gaussian blur of ``radius`` (three box blurs each way) in floating point."""
    size = max(1, round(radius * 1.7))
    for _ in range(3):
        values = _box_blur(_box_blur(values, size, 0), size, 1)
    return values


def _height(mask: Image.Image, radius: float) -> np.ndarray:
    """The piece's relief: its mask blurred by ``radius``, worked out at half size when that is plenty."""
    if radius < 4 or min(mask.size) < 8:
        return _soften(np.asarray(mask, dtype=np.float32) / 255, radius)
    small = _soften(np.asarray(mask.reduce(2), dtype=np.float32) / 255, radius / 2)
    return np.asarray(Image.fromarray(small, "F").resize(mask.size, Image.Resampling.BILINEAR))


def lighting(mask: Image.Image, radius: float, light: Light) -> tuple[np.ndarray, np.ndarray]:
    """Diffuse brightness factor and specular highlight (both h by w, float) for a piece's ``L`` ``mask``.

    The brightness also darkens a thin seam along the silhouette, where moulded parts meet.
    """
    height = _height(mask, radius)
    gy, gx = np.gradient(height)
    steep = np.float32(3.2 * radius)
    nx, ny = gx * -steep, gy * -steep
    length = 1 / np.sqrt(nx * nx + ny * ny + 1)
    kx, ky, kz = light.unit()
    diffuse = np.clip((nx * kx + ny * ky + kz) * length, 0.0, 1.0)
    hx, hy, hz = np.array((kx, ky, kz + 1)) / np.linalg.norm((kx, ky, kz + 1))
    specular = np.clip((nx * hx + ny * hy + hz) * length, 0.0, 1.0) ** light.shininess * light.gloss
    seam = np.clip(height * 3.0, 0.55, 1.0)
    return (0.42 + 0.78 * diffuse) * seam, specular


def shade(colour: RGB, mask: Image.Image, radius: float, light: Light) -> Image.Image:
    """An RGBA piece: ``colour`` moulded into the shape of ``mask`` (an ``L`` image), with a dark seam."""
    alpha = np.asarray(mask, dtype=np.float32) / 255
    brightness, specular = lighting(mask, radius, light)
    base = np.asarray(colour, dtype=np.float32)
    rgb = base * brightness[..., None] + (255 - base * 0.5) * specular[..., None]
    out = np.dstack((np.clip(rgb, 0, 255), alpha * 255)).astype(np.uint8)
    return Image.fromarray(out, "RGBA")


def relight(
    image: Image.Image, mask: Image.Image, radius: float, light: Light, strength: float
) -> Image.Image:
    """``image`` (RGB) lit as a rounded plastic surface in the shape of ``mask``; ``strength`` 0..1."""
    alpha = np.asarray(mask, dtype=np.float32) / 255
    brightness, specular = lighting(mask, radius, light)
    brightness = 1 + (brightness - 1) * strength
    rgb = np.asarray(image, dtype=np.float32) * brightness[..., None] + 200 * strength * specular[..., None]
    out = np.dstack((np.clip(rgb, 0, 255), alpha * 255)).astype(np.uint8)
    return Image.fromarray(out, "RGBA")
