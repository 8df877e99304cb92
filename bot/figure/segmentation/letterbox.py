"""A crop of the photo fitted into a square model input, and boxes mapped between the two."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

Crop = tuple[float, float, float, float]


@dataclass(frozen=True)
class Frame:
    """Where a crop of the photo sits inside a square, letterboxed model input of side ``size``."""

    size: int
    crop: Crop
    left: int
    top: int
    width: int
    height: int

    @property
    def placement(self) -> tuple[int, int, int, int]:
        """The crop's area in model input pixels (left, top, right, bottom)."""
        return self.left, self.top, self.left + self.width, self.top + self.height

    def _scale(self) -> np.ndarray:
        """Model input pixels per photo pixel, along x and y."""
        left, top, right, bottom = self.crop
        return np.array([self.width / (right - left), self.height / (bottom - top)])

    def to_photo(self, box: np.ndarray) -> np.ndarray:
        """A box in 0..1 of the model input as (left, top, right, bottom) photo pixels."""
        corners = box.reshape(2, 2) * self.size - (self.left, self.top)
        return (corners / self._scale() + self.crop[:2]).reshape(4)

    def to_input(self, box: np.ndarray) -> np.ndarray:
        """A box in photo pixels as (left, top, right, bottom) model input pixels."""
        corners = (box.reshape(2, 2) - self.crop[:2]) * self._scale() + (self.left, self.top)
        return corners.reshape(4)


def letterbox(image: Image.Image, size: int, crop: Crop | None = None) -> tuple[Image.Image, Frame]:
    """``crop`` of ``image`` (default: all of it) as RGB, fitted into a black ``size`` square."""
    crop = crop or (0.0, 0.0, float(image.width), float(image.height))
    crop_width, crop_height = crop[2] - crop[0], crop[3] - crop[1]
    scale = size / max(crop_width, crop_height)
    width = min(size, max(1, round(crop_width * scale)))
    height = min(size, max(1, round(crop_height * scale)))
    frame = Frame(size, crop, (size - width) // 2, (size - height) // 2, width, height)
    source = image if image.mode in ("RGB", "L") else image.convert("RGB")
    small = source.resize((width, height), Image.Resampling.BILINEAR, box=crop, reducing_gap=2.0)
    square = Image.new("RGB", (size, size))
    square.paste(small.convert("RGB"), (frame.left, frame.top))
    return square, frame


def to_batch(image: Image.Image, low: float, high: float) -> np.ndarray:
    """An RGB image as a float32 [1, h, w, 3] batch with values mapped from 0..255 to low..high."""
    pixels = np.asarray(image, dtype=np.float32)
    return (pixels * ((high - low) / 255.0) + low)[None]


def clamp_crop(box: np.ndarray, size: tuple[int, int]) -> Crop | None:
    """A photo pixel box cut to the photo, or None when less than a pixel of it is left."""
    left, top = max(0.0, float(box[0])), max(0.0, float(box[1]))
    right, bottom = min(float(size[0]), float(box[2])), min(float(size[1]), float(box[3]))
    return (left, top, right, bottom) if right - left >= 1 and bottom - top >= 1 else None
