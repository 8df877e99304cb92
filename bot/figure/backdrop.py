"""Lift a painted figure off the plain backdrop an image model was asked for, offline, with numpy.

Models such as Qwen-Image-Edit and FLUX.2 return opaque pictures. Asked for a plain studio backdrop,
they paint one even colour (with a soft floor shadow) around the toy. The backdrop's colour is the median
of the picture's border; every pixel joined to the border through pixels close to that colour is
backdrop. Its alpha ramps with the distance from the colour, so anti-aliased edges and soft shadows fade
instead of leaving a halo; all the rest (the toy and the accessories beside it) stays solid.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from bot.figure.masks import blob_sizes, label_blobs

BORDER = 0.02  # the border band that names the backdrop's colour, as a share of the short side
MAX_SPREAD = 24.0  # the border's 90th-percentile distance from its colour above which it is no backdrop
NEAR, FAR = 14.0, 48.0  # least distances (RGB, 0..441) over which the backdrop's alpha ramps 0 to 1
MIN_SHARE, MAX_SHARE = 0.03, 0.95  # the figure's share of the picture for a believable cutout
SPECK = 0.0005  # solid specks smaller than this share of the picture are dropped
EDGE_BLUR = 0.8


def key_out_backdrop(image: Image.Image) -> Image.Image | None:
    """``image`` as RGBA with its plain backdrop transparent, cropped to what stands on it; ``None`` when
    the border is no plain backdrop, or what would be left is too little or too much to be a figure."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    height, width = rgb.shape[:2]
    band = max(2, round(BORDER * min(height, width)))
    ring = np.ones((height, width), dtype=bool)
    ring[band:-band, band:-band] = False
    colour = np.median(rgb[ring], axis=0)
    distance = np.sqrt(((rgb - colour) ** 2).sum(-1))
    if np.percentile(distance[ring], 90) > MAX_SPREAD:
        return None
    low = max(NEAR, float(np.percentile(distance[ring], 99)) + 4.0)  # above the backdrop's own grain
    high = max(FAR, low + 20.0)
    near = np.pad(distance < high, 1, constant_values=True)  # a frame joins every border pixel into one
    labels = label_blobs(near)
    backdrop = (labels == labels[0, 0])[1:-1, 1:-1]
    solid = ~backdrop
    solid &= blob_sizes(label_blobs(solid)) >= SPECK * height * width
    share = float(solid.mean())
    if not MIN_SHARE <= share <= MAX_SHARE:
        return None
    ramp = np.clip((distance - low) / (high - low), 0.0, 1.0)
    alpha = np.where(solid, 1.0, np.where(backdrop, ramp, 0.0))
    mask = Image.fromarray(np.round(alpha * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(EDGE_BLUR))
    cutout = image.convert("RGBA")
    cutout.putalpha(mask)
    bounds = Image.fromarray(solid.astype(np.uint8) * 255).getbbox()
    return cutout.crop(bounds) if bounds else None
