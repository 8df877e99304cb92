"""Cut the main subject (a pet, an object) out of a photo with no person, offline, with numpy and Pillow.

The photo is studied on a small copy. Two cues say how much each pixel stands out: its colour,
against a few k-means colours of the photo's border (less those just as common in the middle,
where the subject runs off the edge), and its sharpness (a pet in focus before a blurred room).
Each cue is scaled so that the border's median is 0 and the middle's is 1, and weighted by how
well it tells them apart. Otsu's threshold splits the blend; the largest, most central blob,
grown a little below the threshold, holes filled and edge smoothed, is the subject.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from bot.figure.masks import label_blobs, small_holes, smoothstep_table

WORK_SIDE = 160  # long side of the copy that is studied (the sharpness cue uses one twice as large)
SAMPLING = 4  # nearest samples a side averaged into each pixel of that larger copy
BORDER = 0.06  # the border band, as a share of the short side
MIDDLE = 0.5  # the middle box, as a share of each side
CLUSTERS = 6
KMEANS_ROUNDS = 8
KMEANS_SAMPLES = 600
SHARED = 0.5
MIN_SPREAD = 4.0  # CIE76 delta E
MIN_SEPARATION = 0.4
MIN_AREA, MAX_AREA = 0.03, 0.92
CENTRE_PULL = 0.5
HOLE_SHARE = 0.5  # holes up to this share of the subject's area are filled
SCORE_BLUR = 1.5
HYSTERESIS = 0.3
EDGE_BLUR = 1.2
MASK_SIDE = 1024

_SRGB_TO_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], dtype=np.float32
)
_WHITE = np.array([0.9505, 1.0, 1.089], dtype=np.float32)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of an [h, w, 3] sRGB array in 0..255."""
    c = rgb.astype(np.float32) / 255.0
    linear = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = linear @ _SRGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    return np.stack(
        [116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], -1
    )


def _distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Euclidean distance of each of ``points`` [..., 3] to each of ``centres`` [k, 3]: [..., k]."""
    squared = (points**2).sum(-1)[..., None] - 2.0 * points @ centres.T + (centres**2).sum(-1)
    return np.sqrt(np.maximum(squared, 0.0))


def _kmeans(points: np.ndarray, count: int) -> np.ndarray:
    """``count`` cluster centres of ``points`` [n, 3], seeded deterministically by farthest points."""
    centres = [np.median(points, axis=0)]
    for _ in range(count - 1):
        centres.append(points[int(_distances(points, np.array(centres)).min(-1).argmax())])
    found = np.array(centres)
    for _ in range(KMEANS_ROUNDS):
        nearest = _distances(points, found).argmin(-1)
        for index in range(count):
            members = points[nearest == index]
            if len(members):
                found[index] = members.mean(axis=0)
    return found


def _regions(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The border band and the middle box of an ``height`` x ``width`` map, as boolean maps."""
    band = max(2, round(BORDER * min(height, width)))
    ring = np.ones((height, width), dtype=bool)
    ring[band:-band, band:-band] = False
    middle = np.zeros((height, width), dtype=bool)
    top, left = round(height * (1 - MIDDLE) / 2), round(width * (1 - MIDDLE) / 2)
    middle[top : height - top, left : width - left] = True
    return ring, middle


def _colour_cue(lab: np.ndarray, ring: np.ndarray, middle: np.ndarray) -> np.ndarray | None:
    """How far each pixel's colour is from the background's, in cluster spreads; None without a background.

    A border colour counts as background unless the middle has at least ``SHARED`` of its share
    of the border: then it is the subject running off the edge.
    """
    border = lab[ring]
    centres = _kmeans(border[:: max(1, len(border) // KMEANS_SAMPLES)], CLUSTERS)
    distance = _distances(lab, centres)
    nearest = distance.argmin(-1)
    closest = distance.min(-1)
    counts = np.bincount(nearest[ring], minlength=CLUSTERS)
    spread = np.sqrt(np.bincount(nearest[ring], closest[ring] ** 2, CLUSTERS) / np.maximum(counts, 1))
    spread = np.maximum(spread, MIN_SPREAD)
    alike = closest <= 2.0 * spread[nearest]
    middle_share = np.bincount(nearest[middle & alike], minlength=CLUSTERS) / middle.sum()
    background = middle_share < SHARED * counts / ring.sum()
    if not background.any():
        return None
    return (distance[..., background] / spread[background]).min(-1)


def _sharpness_cue(detail: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """Local detail (mean absolute Laplacian) of a twice as large grey copy, pooled to ``size``."""
    grey = np.asarray(detail.convert("L"), dtype=np.float32)
    laplacian = np.zeros_like(grey)
    laplacian[1:-1, 1:-1] = np.abs(
        4.0 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    )
    energy = Image.fromarray(np.clip(laplacian * 4.0, 0, 255).astype(np.uint8)).filter(ImageFilter.BoxBlur(4))
    return np.asarray(energy.resize(size, Image.Resampling.BOX), dtype=np.float32)


def _scaled(cue: np.ndarray, ring: np.ndarray, middle: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The cue with the border's median at 0 and the middle's at 1, and how far apart they are.

    The distance is in the cue's 10-90 percentile range; None when the middle does not stand out.
    """
    low, high = float(np.median(cue[ring])), float(np.median(cue[middle]))
    floor, ceiling = np.percentile(cue, (10, 90))
    separation = (high - low) / max(float(ceiling - floor), 1e-6)
    if separation <= 0:
        return None
    return np.clip((cue - low) / (high - low), -1.0, 2.0), separation


def _otsu(image: Image.Image) -> int:
    """Otsu's threshold of an ``L`` image: the level that best splits its histogram in two classes."""
    share = np.array(image.histogram(), dtype=np.float64) / (image.width * image.height)
    below = np.cumsum(share)
    mean_below = np.cumsum(share * np.arange(256))
    between = (mean_below[-1] * below - mean_below) ** 2 / np.maximum(below * (1.0 - below), 1e-12)
    return int(np.argmax(between[:-1]))


def _main_blob(solid: np.ndarray) -> np.ndarray:
    """The blob of ``solid`` with the most area, counting up to ``CENTRE_PULL`` less far off-centre."""
    labels = label_blobs(solid)
    inside = labels >= 0
    ids = labels[inside]
    rows, cols = np.nonzero(inside)
    height, width = solid.shape
    sizes = np.bincount(ids, minlength=1).astype(np.float64)
    used = np.maximum(sizes, 1.0)
    dy = np.bincount(ids, rows + 0.5, minlength=1) / used / height - 0.5
    dx = np.bincount(ids, cols + 0.5, minlength=1) / used / width - 0.5
    weight = sizes * (1.0 - CENTRE_PULL * np.hypot(dx, dy) / math.sqrt(0.5))
    return labels == int(np.argmax(weight))


def _subject_blob(levels: Image.Image) -> np.ndarray:
    """The main blob above Otsu's threshold of ``levels``, grown into what lies a little below it.

    The growth reaches ``HYSTERESIS`` of the way down from the threshold to the background's
    mean level, so a blurred ear or a shaded rim joins the subject when it touches it.
    """
    values = np.asarray(levels)
    cut = _otsu(levels)
    above = values > cut
    main = _main_blob(above)
    if not main.any() or above.all():
        return main
    weak = values > cut - HYSTERESIS * (values[above].mean() - values[~above].mean())
    labels = label_blobs(weak)
    return labels == labels[main][0]


def _full_size(blob: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """The blob as a soft-edged ``L`` mask of ``size``.

    It is smoothed small, ramped to a soft edge at most ``MASK_SIDE`` a side, then scaled up.
    """
    small = Image.fromarray(blob.astype(np.uint8) * 255)
    small = (
        small.filter(ImageFilter.MaxFilter(3))
        .filter(ImageFilter.MinFilter(5))
        .filter(ImageFilter.MaxFilter(3))
    )
    small = small.filter(ImageFilter.GaussianBlur(EDGE_BLUR))
    step = math.ceil(max(size) / MASK_SIDE)
    coarse = (math.ceil(size[0] / step), math.ceil(size[1] / step))
    mask = small.resize(coarse, Image.Resampling.BILINEAR).point(smoothstep_table(0.25, 0.75))
    return mask if coarse == size else mask.resize(size, Image.Resampling.NEAREST)


def _detail(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """An RGB copy of ``image`` at ``size``, averaged from a grid of ``SAMPLING`` samples a side per pixel.

    Sampling first keeps a 12 MP photo cheap; averaging the samples keeps noise and texture honest.
    """
    source = image if image.mode in ("RGB", "L") else image.convert("RGB")
    grid = (size[0] * SAMPLING, size[1] * SAMPLING)
    if source.width > grid[0] and source.height > grid[1]:
        source = source.resize(grid, Image.Resampling.NEAREST)
    return source.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0).convert("RGB")


def _score(image: Image.Image) -> np.ndarray | None:
    """How much each pixel of a small copy of ``image`` stands out, 0 at the border to 1 in the middle.

    None when neither cue separates the middle from the border by ``MIN_SEPARATION``.
    """
    scale = WORK_SIDE / max(image.size)
    size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
    detail = _detail(image, (size[0] * 2, size[1] * 2))
    small = detail.resize(size, Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(1))
    ring, middle = _regions(size[1], size[0])
    colour = _colour_cue(_lab(np.asarray(small)), ring, middle)
    scaled = [_scaled(cue, ring, middle) for cue in (colour, _sharpness_cue(detail, size)) if cue is not None]
    cues = [cue for cue in scaled if cue is not None]
    if not cues or max(separation for _, separation in cues) < MIN_SEPARATION:
        return None
    return sum(cue * separation for cue, separation in cues) / sum(separation for _, separation in cues)


def subject_mask(image: Image.Image) -> Image.Image | None:
    """An ``L`` mask of ``image``'s size, 255 on its main subject; None when no subject stands out clearly.

    Meant for photos with no person: a flat picture, or one whose middle looks like its border
    (a busy texture, a crowd of small things), gives None so the caller can fall back.
    """
    score = _score(image)
    if score is None:
        return None
    levels = Image.fromarray(np.round((score + 1.0) * (255.0 / 3.0)).astype(np.uint8))
    blob = _subject_blob(levels.filter(ImageFilter.GaussianBlur(SCORE_BLUR)))
    blob |= small_holes(~blob, HOLE_SHARE * blob.sum())
    if not MIN_AREA <= blob.mean() <= MAX_AREA:
        return None
    return _full_size(blob, image.size)
