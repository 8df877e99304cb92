"""Fix a very dark, washed-out or overexposed photo before it is moulded; leave a well-exposed one alone.

The decision is made on the luminance histogram of a small sample of the photo: a darkest tone
well above black is stretched down to black, a brightest tone well below white up to white, and a
mean still far from mid-grey is moved toward it with a gamma. The curve is applied with one
lookup table per band, so a large photo costs a single pass.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

SAMPLE_SIDE = 256
LOW_PERCENTILE, HIGH_PERCENTILE = 0.005, 0.995
MAX_BLACK = 60
MIN_WHITE = 150
MIN_SPAN = 64
DARK_MEAN, BRIGHT_MEAN = 0.22, 0.75
TARGET_MEAN = 0.45
GAMMA_RANGE = (0.35, 2.5)


def _histogram(image: Image.Image) -> np.ndarray:
    """The luminance histogram (256 bins) of a nearest-neighbour sample at most ``SAMPLE_SIDE`` a side."""
    scale = min(1.0, SAMPLE_SIDE / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    sample = image if size == image.size else image.resize(size, Image.Resampling.NEAREST)
    return np.array(sample.convert("L").histogram(), dtype=np.float64)


def _levels(histogram: np.ndarray) -> tuple[float, float]:
    """The black and white points: the darkest and brightest tones when they are far from 0 and 255.

    The window is at least ``MIN_SPAN`` wide, so a nearly flat photo is not blown into noise.
    """
    cumulative = np.cumsum(histogram) / histogram.sum()
    low = float(np.searchsorted(cumulative, LOW_PERCENTILE))
    high = float(np.searchsorted(cumulative, HIGH_PERCENTILE))
    black = low if low > MAX_BLACK else 0.0
    white = high if high < MIN_WHITE else 255.0
    if white - black < MIN_SPAN:
        centre = min(max((black + white) / 2.0, MIN_SPAN / 2.0), 255.0 - MIN_SPAN / 2.0)
        black, white = centre - MIN_SPAN / 2.0, centre + MIN_SPAN / 2.0
    return black, white


def _stretched(black: float, white: float) -> np.ndarray:
    """Each of the 256 tones mapped through the levels, in 0..1."""
    return np.clip((np.arange(256) - black) / (white - black), 0.0, 1.0)


def _gamma(histogram: np.ndarray, tones: np.ndarray) -> float:
    """1 when the stretched mean is fine; else the gamma that brings it to ``TARGET_MEAN`` (within bounds)."""
    share = histogram / histogram.sum()
    if DARK_MEAN <= float(share @ tones) <= BRIGHT_MEAN:
        return 1.0
    low, high = (math.log(bound) for bound in GAMMA_RANGE)
    for _ in range(24):  # the mean falls as the gamma rises: bisect on its logarithm
        middle = (low + high) / 2.0
        low, high = (
            (middle, high) if float(share @ tones ** math.exp(middle)) > TARGET_MEAN else (low, middle)
        )
    return math.exp((low + high) / 2.0)


def corrected(image: Image.Image) -> Image.Image:
    """``image`` with a very dark, washed-out or overexposed exposure fixed; ``image`` itself when fine."""
    histogram = _histogram(image)
    black, white = _levels(histogram)
    tones = _stretched(black, white)
    gamma = _gamma(histogram, tones)
    if (black, white, gamma) == (0.0, 255.0, 1.0):
        return image
    table = np.round(tones**gamma * 255.0).astype(int).tolist()
    source = image if image.mode in ("L", "RGB", "RGBA") else image.convert("RGB")
    identity = list(range(256))
    return source.point(
        [value for band in source.getbands() for value in (identity if band == "A" else table)]
    )
