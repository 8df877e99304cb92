"""Hats, helmets and things worn on the head, fitted to where the face is on the toy.

Shapes are placed in face units: x in face widths from the face's centre line, y in face heights from
the top of the face box (the brow line), negative upward.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.boxart.shapes import mix
from bot.boxart.shapes import shade as tint
from bot.figure.plastic import RGB
from bot.figure.sculpt import Point, Sculpture, stars

BEHIND = frozenset({"hood", "space-helmet"})  # kinds with a part behind the head


@dataclass
class Headgear:
    """Draws ``kind`` in ``colour`` (with ``trim``) around the face box ``face`` (canvas pixels)."""

    sculpture: Sculpture
    face: tuple[float, float, float, float]
    colour: RGB
    trim: RGB

    def at(self, x: float, y: float) -> tuple[float, float]:
        left, top, right, bottom = self.face
        return (left + right) / 2 + x * (right - left), top + y * (bottom - top)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (*self.at(x0, y0), *self.at(x1, y1))

    def _oval(self, x0: float, y0: float, x1: float, y1: float) -> Callable[[ImageDraw.ImageDraw], None]:
        box = self.box(x0, y0, x1, y1)
        return lambda draw: draw.ellipse(box, fill=255)

    def ellipse(self, x0: float, y0: float, x1: float, y1: float) -> Image.Image:
        return self.sculpture.mask(self._oval(x0, y0, x1, y1))

    def polygon(self, points: list[Point]) -> Image.Image:
        pixels = [self.at(x, y) for x, y in points]
        return self.sculpture.mask(lambda draw: draw.polygon(pixels, fill=255))

    def mould(self, mask: Image.Image, colour: RGB, roundness: float = 0.12) -> None:
        self.sculpture.mould(mask, colour, roundness=roundness, shadow=0.35)

    def dome(self, bottom: float = 0.12, top: float = -0.6, half: float = 0.62) -> Image.Image:
        """A cap of the skull from ``top`` to ``bottom``: the crown under every hat."""
        return self.polygon(
            [(-half, bottom), (-half, -0.05), (-half * 0.75, top * 0.7), (-half * 0.35, top),
             (half * 0.35, top), (half * 0.75, top * 0.7), (half, -0.05), (half, bottom)]
        )  # fmt: skip

    # ------------------------------------------------------------------------------------------
    def draw_behind(self, kind: str) -> None:
        if kind == "hood":
            self.mould(self.ellipse(-0.95, -0.85, 0.95, 1.25), tint(self.colour, -0.1), 0.3)
        elif kind == "space-helmet":
            self.mould(self.ellipse(-1.05, -0.95, 1.05, 1.35), mix(self.colour, (20, 30, 60), 0.75), 0.25)

    def draw_front(self, kind: str) -> None:
        draw = getattr(self, "_" + kind.replace("-", "_"), None)
        if draw is not None:
            draw()

    def _space_helmet(self) -> None:
        glass = self.ellipse(-1.05, -0.95, 1.05, 1.35)
        self.sculpture.paint(glass, (200, 225, 255), 0.12)
        rim = self.sculpture.mask(
            lambda d: d.ellipse(self.box(-1.05, -0.95, 1.05, 1.35), outline=255, width=self._w(0.09))
        )
        self.mould(rim, self.colour, 0.05)
        shine = self.sculpture.mask(
            lambda d: d.arc(self.box(-0.85, -0.75, 0.85, 1.15), 200, 250, fill=255, width=self._w(0.07))
        )
        self.sculpture.paint(shine, (255, 255, 255), 0.8)
        self.mould(self.polygon([(-0.8, 1.1), (0.8, 1.1), (0.9, 1.42), (-0.9, 1.42)]), self.colour, 0.12)

    def _w(self, heads: float) -> int:
        left, _, right, _ = self.face
        return max(1, round((right - left) * heads))

    def _tricorn(self) -> None:
        self.mould(self.dome(0.1, -0.55), self.colour)
        hat = self.polygon(
            [(-1.15, -0.25), (0.0, 0.12), (1.15, -0.25), (0.75, -0.75), (0.0, -0.45), (-0.75, -0.75)]
        )
        self.mould(hat, self.colour, 0.1)
        edge = self.sculpture.mask(
            lambda d: d.line(
                [self.at(-1.15, -0.25), self.at(0.0, 0.12), self.at(1.15, -0.25)],
                fill=255,
                width=self._w(0.06),
            )
        )
        self.sculpture.paint(edge, self.trim, 1.0)
        self.mould(self.ellipse(-0.12, -0.22, 0.12, 0.02), (245, 245, 245), 0.05)

    def _wizard_hat(self) -> None:
        self.mould(self.ellipse(-1.2, -0.3, 1.2, 0.18), tint(self.colour, -0.05), 0.12)
        cone = self.polygon([(-0.68, -0.1), (0.68, -0.1), (0.25, -1.2), (0.55, -1.85), (-0.05, -1.3)])
        self.mould(cone, self.colour, 0.2)
        band = self.polygon([(-0.66, -0.32), (0.66, -0.32), (0.66, -0.1), (-0.68, -0.1)])
        self.mould(band, self.trim, 0.05)
        centres = [self.at(x, y) for x, y in ((-0.2, -0.6), (0.25, -0.9), (0.1, -1.35))]
        spangles = self.sculpture.mask(lambda d: stars(d, centres, self._w(0.1), self._w(0.045)))
        self.sculpture.paint(spangles, self.trim, 1.0)

    def _toque(self) -> None:
        self.mould(
            self.polygon([(-0.6, 0.08), (0.6, 0.08), (0.66, -0.42), (-0.66, -0.42)]), self.colour, 0.12
        )
        puff = self.sculpture.mask(*(self._oval(x - 0.42, -1.25, x + 0.42, -0.3) for x in (-0.38, 0.0, 0.38)))
        self.mould(puff, self.colour, 0.25)

    def _fedora(self, brim: float = 1.05, curl: bool = False) -> None:
        self.mould(self.ellipse(-brim, -0.28, brim, 0.12), tint(self.colour, -0.06), 0.1)
        if curl:
            for side in (-1, 1):
                self.mould(self.ellipse(side * brim - 0.22, -0.5, side * brim + 0.22, 0.0), self.colour, 0.1)
        crown = self.polygon(
            [
                (-0.58, -0.1),
                (0.58, -0.1),
                (0.5, -0.72),
                (0.2, -0.8),
                (0.0, -0.66),
                (-0.2, -0.8),
                (-0.5, -0.72),
            ]
        )
        self.mould(crown, self.colour, 0.18)
        self.mould(
            self.polygon([(-0.58, -0.3), (0.58, -0.3), (0.58, -0.1), (-0.58, -0.1)]),
            tint(self.colour, -0.45),
            0.04,
        )

    def _cowboy_hat(self) -> None:
        self._fedora(brim=1.25, curl=True)

    def _crown(self) -> None:
        points = [(-0.62, 0.0), (-0.62, -0.62), (-0.36, -0.3), (-0.18, -0.8), (0.0, -0.38), (0.18, -0.8),
                  (0.36, -0.3), (0.62, -0.62), (0.62, 0.0)]  # fmt: skip
        self.mould(self.polygon([(x, y - 0.1) for x, y in points]), self.colour, 0.08)
        for x in (-0.3, 0.0, 0.3):
            self.mould(self.ellipse(x - 0.08, -0.3, x + 0.08, -0.14), (200, 16, 46), 0.04)

    def _tiara(self) -> None:
        arc = self.polygon(
            [(-0.5, -0.02), (-0.3, -0.22), (0.0, -0.48), (0.3, -0.22), (0.5, -0.02), (0.0, -0.18)]
        )
        self.mould(arc, self.colour, 0.06)
        self.mould(self.ellipse(-0.08, -0.36, 0.08, -0.2), (255, 110, 180), 0.04)

    def _knight_helmet(self) -> None:
        self.mould(self.dome(0.05, -0.72, 0.7), self.colour, 0.25)
        for side in (-1, 1):
            guard = self.polygon(
                [(side * 0.7, -0.1), (side * 0.48, -0.05), (side * 0.46, 0.85), (side * 0.7, 0.95)]
            )
            self.mould(guard, tint(self.colour, -0.08), 0.1)
        self.mould(
            self.polygon([(-0.06, -0.05), (0.06, -0.05), (0.05, 0.52), (-0.05, 0.52)]),
            tint(self.colour, -0.1),
            0.05,
        )
        plume = self.polygon([(-0.08, -0.7), (0.15, -1.25), (0.5, -1.15), (0.12, -0.66)])
        self.mould(plume, self.trim, 0.2)

    def _cap(self) -> None:
        self.mould(self.dome(0.05, -0.62, 0.64), self.colour, 0.25)
        self.mould(self.ellipse(-0.7, -0.08, 0.7, 0.2), tint(self.colour, -0.15), 0.08)

    def _fire_helmet(self) -> None:
        self.mould(self.ellipse(-1.05, -0.18, 1.05, 0.2), tint(self.colour, -0.1), 0.1)
        self.mould(self.dome(0.02, -0.8, 0.66), self.colour, 0.28)
        self.mould(
            self.polygon([(-0.26, -0.62), (0.26, -0.62), (0.22, -0.12), (-0.22, -0.12)]), (255, 214, 10), 0.05
        )

    def _beanie(self) -> None:
        self.mould(self.dome(-0.05, -0.72, 0.64), self.colour, 0.28)
        self.mould(
            self.polygon([(-0.66, -0.22), (0.66, -0.22), (0.66, 0.06), (-0.66, 0.06)]),
            tint(self.colour, -0.12),
            0.08,
        )
        self.mould(self.ellipse(-0.16, -0.96, 0.16, -0.64), self.trim, 0.12)

    def _hood(self) -> None:
        rim = self.sculpture.mask(
            lambda d: d.ellipse(self.box(-0.78, -0.7, 0.78, 1.2), outline=255, width=self._w(0.16))
        )
        self.mould(rim, self.colour, 0.1)

    def _headphones(self, microphone: bool = False) -> None:
        band = self.sculpture.mask(
            lambda d: d.arc(self.box(-0.72, -0.78, 0.72, 0.9), 180, 360, fill=255, width=self._w(0.12))
        )
        self.mould(band, self.colour, 0.06)
        for side in (-1, 1):
            self.mould(self.ellipse(side * 0.7 - 0.17, 0.15, side * 0.7 + 0.17, 0.75), self.colour, 0.12)
            self.mould(self.ellipse(side * 0.7 - 0.1, 0.3, side * 0.7 + 0.1, 0.6), self.trim, 0.06)
        if microphone:
            boom = self.sculpture.mask(
                lambda d: d.line(
                    [self.at(-0.72, 0.55), self.at(-0.45, 0.95), self.at(-0.15, 0.98)],
                    fill=255,
                    width=self._w(0.05),
                )
            )
            self.mould(boom, self.colour, 0.03)
            self.mould(self.ellipse(-0.22, 0.9, -0.06, 1.06), self.trim, 0.04)

    def _headset(self) -> None:
        self._headphones(microphone=True)

    def _mohawk(self) -> None:
        crest = [(-0.14, 0.0)]
        for index in range(5):
            x = -0.42 + index * 0.21
            crest += [
                (x, -0.42 - 0.1 * (2 - abs(index - 2))),
                (x + 0.05, -0.9 - 0.12 * (2 - abs(index - 2))),
                (x + 0.16, -0.5),
            ]
        crest.append((0.14, 0.0))
        self.mould(self.polygon(crest), self.colour, 0.06)

    def _bandana(self) -> None:
        self.mould(
            self.polygon([(-0.66, -0.3), (0.66, -0.3), (0.66, -0.02), (-0.66, -0.02)]), self.colour, 0.08
        )
        self.mould(
            self.polygon([(0.6, -0.2), (0.95, 0.05), (0.85, 0.22), (0.58, -0.04)]),
            tint(self.colour, -0.1),
            0.06,
        )

    def _beret(self) -> None:
        self.mould(self.ellipse(-0.8, -0.62, 0.7, -0.06), self.colour, 0.2)

    def _top_hat(self) -> None:
        self.mould(self.ellipse(-0.95, -0.22, 0.95, 0.12), self.colour, 0.1)
        self.mould(
            self.polygon([(-0.55, -0.06), (0.55, -0.06), (0.55, -1.2), (-0.55, -1.2)]), self.colour, 0.2
        )
        self.mould(
            self.polygon([(-0.56, -0.32), (0.56, -0.32), (0.56, -0.08), (-0.56, -0.08)]), self.trim, 0.04
        )

    # ------------------------------------------------------------------------------------------
    def goggles(self, colour: RGB) -> None:
        strap = self.polygon([(-0.7, -0.2), (0.7, -0.2), (0.7, -0.06), (-0.7, -0.06)])
        self.mould(strap, (40, 40, 40), 0.04)
        for side in (-1, 1):
            self.mould(self.ellipse(side * 0.25 - 0.2, -0.32, side * 0.25 + 0.2, 0.06), colour, 0.08)
            self.sculpture.paint(
                self.ellipse(side * 0.25 - 0.13, -0.25, side * 0.25 + 0.13, -0.01), (180, 230, 255), 0.9
            )

    def shades(self) -> None:
        for side in (-1, 1):
            lens = self.ellipse(side * 0.22 - 0.2, 0.28, side * 0.22 + 0.2, 0.52)
            self.sculpture.paint(lens, (15, 15, 25), 0.72)
        frame = self.sculpture.mask(
            lambda d: d.line([self.at(-0.45, 0.34), self.at(0.45, 0.34)], fill=255, width=self._w(0.04))
        )
        self.sculpture.paint(frame, (15, 15, 25), 0.9)


def draws(kind: str) -> bool:
    """Whether ``kind`` of headgear has a drawing (every kind in the outfit data should)."""
    return kind == "none" or hasattr(Headgear, "_" + kind.replace("-", "_"))
