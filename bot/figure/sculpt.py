"""A canvas on which a toy is built from moulded pieces, back to front, each casting a soft contact shadow."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from bot.figure.plastic import RGB, Light, shade

Point = tuple[float, float]
Draw = Callable[[ImageDraw.ImageDraw], None]
SUPERSAMPLE = 2


def limb(draw: ImageDraw.ImageDraw, start: Point, end: Point, width_start: float, width_end: float) -> None:
    """A tapered capsule from ``start`` to ``end`` (round at both ends), filled white on an ``L`` mask."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    r0, r1 = width_start / 2, width_end / 2
    draw.polygon(
        [(x0 + nx * r0, y0 + ny * r0), (x1 + nx * r1, y1 + ny * r1), (x1 - nx * r1, y1 - ny * r1),
         (x0 - nx * r0, y0 - ny * r0)],
        fill=255,
    )  # fmt: skip
    draw.ellipse((x0 - r0, y0 - r0, x0 + r0, y0 + r0), fill=255)
    draw.ellipse((x1 - r1, y1 - r1, x1 + r1, y1 + r1), fill=255)


def disc(draw: ImageDraw.ImageDraw, centre: Point, radius: float) -> None:
    x, y = centre
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)


def discs(draw: ImageDraw.ImageDraw, centres: Sequence[Point], radius: float) -> None:
    for centre in centres:
        disc(draw, centre, radius)


def stars(draw: ImageDraw.ImageDraw, centres: Sequence[Point], outer: float, inner: float) -> None:
    for centre in centres:
        draw.polygon(star_points(centre, outer, inner), fill=255)


def star_points(centre: Point, outer: float, inner: float, points: int = 5, turn: float = 0.0) -> list[Point]:
    """The corners of a star around ``centre``, first point up (turned by ``turn`` radians)."""
    x, y = centre
    corners = []
    for index in range(points * 2):
        angle = turn - math.pi / 2 + index * math.pi / points
        radius = outer if index % 2 == 0 else inner
        corners.append((x + radius * math.cos(angle), y + radius * math.sin(angle)))
    return corners


class Sculpture:
    """A canvas where pieces are moulded in plastic, lit by ``light``.

    Shapes are drawn at ``SUPERSAMPLE`` times the canvas resolution, for smooth edges; every size and
    point given to it is in those drawing pixels, and ``unit`` (one head) too.
    """

    def __init__(self, size: tuple[int, int], unit: float, light: Light) -> None:
        self.drawing_size = (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE)
        self.image = Image.new("RGBA", size, (0, 0, 0, 0))
        self.unit = unit * SUPERSAMPLE
        self.light = light

    def mask(self, *drawings: Draw) -> Image.Image:
        """An ``L`` mask in drawing pixels with ``drawings`` filled in."""
        mask = Image.new("L", self.drawing_size, 0)
        draw = ImageDraw.Draw(mask)
        for drawing in drawings:
            drawing(draw)
        return mask

    def _reduced(
        self, mask: Image.Image, pad: float, clip: Image.Image | None = None
    ) -> tuple[Image.Image, tuple[int, int]] | None:
        """The drawn part of ``mask`` (within ``clip``, if given) at canvas resolution, with ``pad`` drawing
        pixels around it, and where it goes on the canvas; None when nothing was drawn."""
        box = mask.getbbox()
        if box is None:
            return None
        step = SUPERSAMPLE
        left, top = max(0, int(box[0] - pad)) // step * step, max(0, int(box[1] - pad)) // step * step
        right = min(mask.width, -(-int(box[2] + pad) // step) * step)
        bottom = min(mask.height, -(-int(box[3] + pad) // step) * step)
        crop = (left, top, right, bottom)
        part = mask.crop(crop) if clip is None else ImageChops.multiply(mask.crop(crop), clip.crop(crop))
        return part.reduce(step), (left // step, top // step)

    def mould(
        self,
        mask: Image.Image,
        colour: RGB,
        roundness: float = 0.18,
        shadow: float = 0.35,
        clip: Image.Image | None = None,
    ) -> None:
        """Add a plastic piece of ``colour`` in the shape of ``mask``; ``roundness`` is its bevel in heads.

        ``clip`` limits the piece to where that mask is set (a print on a garment, say).
        """
        reduced = self._reduced(mask, self.unit * 0.4, clip)
        if reduced is None:
            return
        part, at = reduced
        if shadow:
            self._contact_shadow(part, at, shadow)
        radius = max(1.0, roundness * self.unit / SUPERSAMPLE)
        self.image.alpha_composite(shade(colour, part, radius, self.light), at)

    def paint(self, mask: Image.Image, colour: RGB, opacity: float = 1.0) -> None:
        """Flat paint (a printed stripe, a lens) of ``colour`` over ``mask``, without relief."""
        reduced = self._reduced(mask, 0)
        if reduced is None:
            return
        part, at = reduced
        layer = Image.new("RGBA", part.size, (*colour, 0))
        layer.putalpha(part.point(lambda v: round(v * opacity)))
        self.image.alpha_composite(layer, at)

    def place(self, picture: Image.Image, at: tuple[float, float], shadow: float = 0.35) -> None:
        """Put an RGBA ``picture`` drawn in drawing pixels (a face, an icon) with its corner at ``at``."""
        size = (max(1, round(picture.width / SUPERSAMPLE)), max(1, round(picture.height / SUPERSAMPLE)))
        picture = picture.resize(size, Image.Resampling.BOX)
        layer = Image.new("RGBA", self.image.size, (0, 0, 0, 0))
        corner = (round(at[0] / SUPERSAMPLE), round(at[1] / SUPERSAMPLE))
        layer.paste(picture, corner)
        if shadow:
            self._contact_shadow(layer.getchannel("A"), (0, 0), shadow)
        self.image.alpha_composite(layer)

    def _contact_shadow(self, part: Image.Image, at: tuple[int, int], strength: float) -> None:
        """Darken what is already drawn under ``part`` (at ``at``) as if the piece stood just above it."""
        lx, ly, _ = self.light.unit()
        reach = self.unit / SUPERSAMPLE * 0.08
        left, top = at[0] + round(-lx * reach), at[1] + round(-ly * reach)
        region = self.image.crop((left, top, left + part.width, top + part.height))
        shadow = part.filter(ImageFilter.BoxBlur(reach)).point(lambda v: round(v * strength))
        shadow = ImageChops.multiply(shadow, region.getchannel("A"))
        darkened = Image.composite(Image.new("RGBA", region.size, (0, 0, 0, 255)), region, shadow)
        darkened.putalpha(region.getchannel("A"))
        self.image.paste(darkened, (left, top))
