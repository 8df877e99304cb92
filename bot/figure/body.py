"""The moulded toy body in its costume: stand, legs, torso, arms and hands, posed by a skeleton."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.boxart.shapes import mix
from bot.boxart.shapes import shade as tint
from bot.figure.emblems import draw_emblem
from bot.figure.outfit import Outfit
from bot.figure.plastic import RGB
from bot.figure.pose import Pose
from bot.figure.sculpt import Point, Sculpture, disc, discs, limb, stars

WAIST_Y, HIP_Y = 2.3, 2.66


@dataclass
class Body:
    """Draws a posed, dressed body on ``sculpture`` with its head origin at pixel ``origin``."""

    sculpture: Sculpture
    origin: Point
    pose: Pose
    outfit: Outfit
    skin: RGB

    def at(self, point: Point) -> tuple[float, float]:
        """Head units to canvas pixels."""
        unit = self.sculpture.unit
        return self.origin[0] + point[0] * unit, self.origin[1] + point[1] * unit

    def size(self, heads: float) -> float:
        return heads * self.sculpture.unit

    def polygon(self, points: list[Point]) -> Image.Image:
        pixels = [self.at(point) for point in points]
        return self.sculpture.mask(lambda draw: draw.polygon(pixels, fill=255))

    def limb(self, start: Point, end: Point, width_start: float, width_end: float) -> Image.Image:
        a, b = self.at(start), self.at(end)
        return self.sculpture.mask(
            lambda draw: limb(draw, a, b, self.size(width_start), self.size(width_end))
        )

    def disc(self, centre: Point, radius: float) -> Image.Image:
        point = self.at(centre)
        return self.sculpture.mask(lambda draw: disc(draw, point, self.size(radius)))

    def joint(self, centre: Point, radius: float, colour: RGB) -> None:
        """A visible articulation pin: a slightly darker round cap where two parts meet."""
        self.sculpture.mould(self.disc(centre, radius), tint(colour, -0.14), roundness=0.08, shadow=0.3)

    # ------------------------------------------------------------------------------------------
    def stand(self) -> None:
        """The clear acrylic display stand under the feet, with its peg."""
        ankle_y = max(y for _, y in self.pose.ankles)
        cx, cy = self.at((0.0, ankle_y + 0.26))
        rx, ry, depth = self.size(1.3), self.size(0.26), self.size(0.13)
        rod = self.limb((0.0, HIP_Y), (0.0, ankle_y + 0.2), 0.14, 0.14)
        sculpture = self.sculpture
        sculpture.paint(rod, (225, 240, 255), 0.35)
        side = sculpture.mask(
            lambda draw: draw.ellipse((cx - rx, cy - ry + depth, cx + rx, cy + ry + depth), fill=255),
            lambda draw: draw.rectangle((cx - rx, cy, cx + rx, cy + depth), fill=255),
        )
        sculpture.paint(side, (190, 215, 235), 0.55)
        top = sculpture.mask(lambda draw: draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255))
        sculpture.paint(top, (240, 248, 255), 0.45)
        rim = sculpture.mask(
            lambda draw: draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), outline=255, width=3)
        )
        sculpture.paint(rim, (255, 255, 255), 0.9)

    def cape(self) -> None:
        colour = self.outfit.cape_colour
        if colour is None:
            return
        (lx, ly), (rx, ry) = self.pose.shoulders
        knee_y = max(y for _, y in self.pose.knees) + 0.35
        sway = 0.12 if self.pose.light.direction[0] < 0 else -0.12
        mask = self.polygon(
            [(lx + 0.1, ly - 0.1), (rx - 0.1, ry - 0.1), (rx + 0.55 + sway, knee_y), (sway, knee_y + 0.12),
             (lx - 0.55 + sway, knee_y)]
        )  # fmt: skip
        self.sculpture.mould(mask, colour, roundness=0.35, shadow=0.0)

    def legs(self) -> None:
        outfit = self.outfit
        if outfit.legs == "tail":
            self._tail()
            return
        for hip, knee, ankle in zip(self.pose.hips, self.pose.knees, self.pose.ankles, strict=True):
            self._foot(ankle, 1 if hip[0] > 0 else -1)
            if outfit.legs == "trousers":
                self.sculpture.mould(self.limb(hip, knee, 0.5, 0.4), outfit.legs_colour, roundness=0.16)
                boot_top = (knee[0] + (ankle[0] - knee[0]) * 0.55, knee[1] + (ankle[1] - knee[1]) * 0.55)
                self.sculpture.mould(self.limb(knee, ankle, 0.4, 0.34), outfit.legs_colour, roundness=0.14)
                self.sculpture.mould(
                    self.limb(boot_top, ankle, 0.42, 0.38), outfit.boots_colour, roundness=0.14
                )
                self.joint(knee, 0.2, outfit.legs_colour)
        if outfit.legs == "robe":
            ankle_y = max(y for _, y in self.pose.ankles)
            mask = self.polygon(
                [(-0.5, WAIST_Y), (0.5, WAIST_Y), (0.95, ankle_y - 0.05), (-0.95, ankle_y - 0.05)]
            )
            self.sculpture.mould(mask, outfit.legs_colour, roundness=0.3)
            hem = self.polygon(
                [
                    (-0.95, ankle_y - 0.2),
                    (0.95, ankle_y - 0.2),
                    (0.95, ankle_y - 0.05),
                    (-0.95, ankle_y - 0.05),
                ]
            )
            self.sculpture.paint(hem, outfit.trim_colour, 0.9)

    def _foot(self, ankle: Point, side: int) -> None:
        x, y = ankle
        toe = (x + side * 0.2, y + 0.12)
        self.sculpture.mould(
            self.limb((x - side * 0.04, y + 0.05), toe, 0.36, 0.3), self.outfit.boots_colour, 0.12
        )

    def _tail(self) -> None:
        colour = self.outfit.legs_colour
        ankle_y = max(y for _, y in self.pose.ankles)
        bend = 0.25 if self.pose.light.direction[0] < 0 else -0.25
        tail = self.polygon(
            [(-0.56, WAIST_Y), (0.56, WAIST_Y), (0.5, 3.2), (0.2 + bend, ankle_y - 0.35),
             (-0.2 + bend, ankle_y - 0.35), (-0.5, 3.2)]
        )  # fmt: skip
        self.sculpture.mould(tail, colour, roundness=0.35)
        tip = (bend, ankle_y - 0.3)
        fins = [self.limb(tip, (tip[0] + side * 0.55, ankle_y + 0.1), 0.2, 0.42) for side in (-1, 1)]
        for fin in fins:
            self.sculpture.mould(fin, tint(colour, -0.15), roundness=0.12)
        scales = self.sculpture.mask(*(self._scale_row(row) for row in range(6)))
        self.sculpture.paint(scales, tint(colour, 0.35), 0.5)

    def _scale_row(self, row: int):
        y = WAIST_Y + 0.22 + row * 0.22
        width = 0.5 - row * 0.05
        count = max(2, round(width * 6))

        def draw(draw: ImageDraw.ImageDraw) -> None:
            for index in range(count):
                x = -width + (index + 0.5) * 2 * width / count
                cx, cy = self.at((x, y))
                r = self.size(width / count)
                draw.arc(
                    (cx - r, cy - r, cx + r, cy + r), 20, 160, fill=255, width=max(1, round(self.size(0.025)))
                )

        return draw

    # ------------------------------------------------------------------------------------------
    def neck(self) -> None:
        self.sculpture.mould(
            self.limb((0.0, 0.85), (0.0, 1.42), 0.38, 0.42), self.skin, roundness=0.12, shadow=0
        )

    def torso_outline(self) -> list[Point]:
        (lx, ly), (rx, ry) = self.pose.shoulders
        return [
            (lx - 0.06, ly + 0.02), (lx + 0.18, ly - 0.14), (rx - 0.18, ry - 0.14), (rx + 0.06, ry + 0.02),
            (0.56, 1.95), (0.5, WAIST_Y), (0.58, HIP_Y), (0.0, HIP_Y + 0.1), (-0.58, HIP_Y), (-0.5, WAIST_Y),
            (-0.56, 1.95),
        ]  # fmt: skip

    def torso(self) -> Image.Image:
        """The torso piece, moulded in the top's colour; returns its mask for prints on it."""
        outfit = self.outfit
        mask = self.polygon(self.torso_outline())
        self.sculpture.mould(mask, outfit.top_colour, roundness=0.3)
        if outfit.top in ("coat", "robe"):
            self._coat_tails()
        if outfit.top in ("jacket", "coat", "shirt"):
            self._opening(mask)
        if outfit.top == "armour":
            for y in (1.95, 2.15):
                band = self.polygon([(-0.6, y), (0.6, y), (0.6, y + 0.04), (-0.6, y + 0.04)])
                self.sculpture.paint(band, tint(outfit.top_colour, -0.35), 0.8)
        if outfit.top == "hoodie":
            pouch = self.polygon([(-0.32, 2.05), (0.32, 2.05), (0.4, 2.42), (-0.4, 2.42)])
            self.sculpture.mould(
                pouch, tint(outfit.top_colour, -0.08), roundness=0.08, shadow=0.25, clip=mask
            )
        if outfit.top == "tunic":
            panel = self.polygon([(-0.3, 1.45), (0.3, 1.45), (0.34, HIP_Y + 0.4), (-0.34, HIP_Y + 0.4)])
            self.sculpture.mould(panel, outfit.trim_colour, roundness=0.1, shadow=0.2)
        return mask

    def _coat_tails(self) -> None:
        outfit = self.outfit
        bottom = 3.45 if outfit.top == "coat" else max(y for _, y in self.pose.ankles) - 0.1
        gap = 0.04 if outfit.top == "coat" else -0.1  # a coat opens over the legs; a robe is one piece
        for side in (-1, 1):
            tail = self.polygon(
                [
                    (side * gap, WAIST_Y),
                    (side * 0.6, WAIST_Y),
                    (side * 0.78, bottom),
                    (side * (gap + 0.02), bottom),
                ]
            )
            self.sculpture.mould(tail, outfit.top_colour, roundness=0.22, shadow=0.3)

    def _opening(self, torso: Image.Image) -> None:
        """The open front of a jacket, coat or shirt: a shirt V with lapels."""
        outfit = self.outfit
        inner = (248, 248, 248) if outfit.top != "shirt" else tint(outfit.top_colour, -0.1)
        depth = 2.0 if outfit.top == "jacket" else 1.85
        if outfit.top != "shirt":
            vee = self.polygon([(-0.24, 1.22), (0.24, 1.22), (0.0, depth)])
            self.sculpture.mould(vee, inner, roundness=0.06, shadow=0.3, clip=torso)
        for side in (-1, 1):
            lapel = self.polygon(
                [(side * 0.05, 1.2), (side * 0.3, 1.2), (side * 0.14, 1.58), (side * 0.02, depth)]
            )
            colour = tint(outfit.top_colour, -0.12) if outfit.top != "shirt" else outfit.top_colour
            self.sculpture.mould(lapel, colour, roundness=0.05, shadow=0.3, clip=torso)

    def belt(self, torso: Image.Image) -> None:
        band = self.polygon(
            [(-0.62, WAIST_Y - 0.07), (0.62, WAIST_Y - 0.07), (0.62, WAIST_Y + 0.09), (-0.62, WAIST_Y + 0.09)]
        )
        self.sculpture.mould(band, self.outfit.trim_colour, roundness=0.05, shadow=0.3, clip=torso)
        buckle = self.polygon(
            [(-0.1, WAIST_Y - 0.1), (0.1, WAIST_Y - 0.1), (0.1, WAIST_Y + 0.12), (-0.1, WAIST_Y + 0.12)]
        )
        self.sculpture.mould(
            buckle, mix(self.outfit.trim_colour, (255, 215, 90), 0.6), roundness=0.04, shadow=0.3
        )

    def emblem(self, torso: Image.Image) -> None:
        outfit = self.outfit
        if outfit.emblem == "none":
            return
        centre = self.at((0.26 if outfit.top in ("jacket", "coat") else 0.0, 1.78))
        radius = self.size(0.22 if outfit.top in ("jacket", "coat") else 0.3)
        mask = self.sculpture.mask(lambda draw: draw_emblem(draw, outfit.emblem, centre, radius))
        self.sculpture.mould(mask, outfit.emblem_colour, roundness=0.05, shadow=0.35, clip=torso)

    # ------------------------------------------------------------------------------------------
    def arm(self, index: int) -> None:
        """One arm: sleeve, articulation at shoulder and elbow; the hand is drawn by ``hand``."""
        outfit = self.outfit
        shoulder, elbow, hand = self.pose.shoulders[index], self.pose.elbows[index], self.pose.hands[index]
        sleeve = outfit.top_colour
        wide = 0.1 if outfit.top == "robe" else 0.0
        forearm = self.skin if outfit.top == "shirt" and "tie" in outfit.extras else sleeve
        self.sculpture.mould(self.limb(shoulder, elbow, 0.4, 0.34), sleeve, roundness=0.14)
        self.sculpture.mould(self.limb(elbow, hand, 0.33 + wide, 0.3 + wide * 1.6), forearm, roundness=0.13)
        if outfit.top == "armour":
            self.sculpture.mould(self.disc(shoulder, 0.3), tint(sleeve, 0.1), roundness=0.2)
        else:
            self.joint(shoulder, 0.21, sleeve)
        self.joint(elbow, 0.17, forearm)

    def hand(self, index: int) -> None:
        """A moulded grip at the end of the forearm: palm along the arm and a thumb on the inside."""
        colour = self.outfit.gloves_colour or self.skin
        elbow, wrist = self.pose.elbows[index], self.pose.hands[index]
        length = math.hypot(wrist[0] - elbow[0], wrist[1] - elbow[1]) or 1.0
        dx, dy = (wrist[0] - elbow[0]) / length, (wrist[1] - elbow[1]) / length
        tip = (wrist[0] + dx * 0.16, wrist[1] + dy * 0.16)
        side = -1 if wrist[0] > 0 else 1
        thumb = (wrist[0] - dy * 0.1 * side + dx * 0.02, wrist[1] + dx * 0.1 * side + dy * 0.02)
        self.sculpture.mould(self.limb(wrist, tip, 0.27, 0.3), colour, roundness=0.1)
        self.sculpture.mould(self.disc(thumb, 0.075), tint(colour, -0.04), roundness=0.05, shadow=0.3)

    def sparkle(self, torso: Image.Image) -> None:
        """Small stars scattered on the costume (sequins, a wizard's robe)."""
        points = [(-0.35, 1.6), (0.3, 1.5), (0.1, 2.05), (-0.25, 2.5), (0.38, 2.4), (-0.5, 3.0), (0.5, 3.3)]
        centres = [self.at(point) for point in points]
        stars_mask = self.sculpture.mask(lambda draw: stars(draw, centres, self.size(0.07), self.size(0.03)))
        self.sculpture.paint(stars_mask, self.outfit.trim_colour, 0.95)

    def extras(self, torso: Image.Image) -> None:
        """The costume's small parts on the torso: apron, sash, stripes, tie, buttons, scarf and the rest."""
        outfit, extras = self.outfit, self.outfit.extras
        trim = outfit.trim_colour
        light_top = sum(outfit.top_colour) > 600
        if "apron" in extras:
            apron = self.polygon([(-0.42, 1.75), (0.42, 1.75), (0.5, 3.35), (-0.5, 3.35)])
            self.sculpture.mould(
                apron, (44, 44, 52) if light_top else (246, 246, 246), roundness=0.12, shadow=0.35
            )
        if "stripes" in extras:
            for y in (1.62, 2.12):
                band = self.polygon([(-0.7, y), (0.7, y), (0.7, y + 0.09), (-0.7, y + 0.09)])
                self.sculpture.mould(band, trim, roundness=0.03, shadow=0.2, clip=torso)
        if "sash" in extras:
            sash = self.polygon([(-0.55, 1.3), (-0.32, 1.22), (0.62, 2.3), (0.5, 2.48)])
            self.sculpture.mould(sash, trim, roundness=0.06, shadow=0.3, clip=torso)
        if "pockets" in extras:
            for side in (-1, 1):
                pocket = self.polygon(
                    [(side * 0.14, 1.68), (side * 0.38, 1.68), (side * 0.38, 1.9), (side * 0.14, 1.9)]
                )
                self.sculpture.mould(
                    pocket, tint(outfit.top_colour, -0.1), roundness=0.03, shadow=0.3, clip=torso
                )
        if "tie" in extras:
            tie = self.polygon([(-0.06, 1.3), (0.06, 1.3), (0.1, 2.02), (0.0, 2.12), (-0.1, 2.02)])
            self.sculpture.mould(tie, trim, roundness=0.05, shadow=0.35)
            self.sculpture.mould(self.disc((0.0, 1.28), 0.08), tint(trim, -0.1), roundness=0.04, shadow=0.2)
        if "buttons" in extras:
            columns = (-0.14, 0.14) if outfit.top in ("jacket", "coat") else (0.0,)
            centres = [self.at((x, y)) for x in columns for y in (1.62, 1.82, 2.02)]
            buttons = self.sculpture.mask(lambda draw: discs(draw, centres, self.size(0.045)))
            self.sculpture.mould(buttons, mix(trim, (230, 190, 80), 0.5), roundness=0.03, shadow=0.3)
        if "studs" in extras:
            spots = ((0.42, 1.28), (0.52, 1.4), (0.34, 1.36), (0.2, 1.5))
            centres = [self.at((side * x, y)) for side in (-1, 1) for x, y in spots]
            studs = self.sculpture.mask(lambda draw: discs(draw, centres, self.size(0.035)))
            self.sculpture.mould(studs, (215, 215, 222), roundness=0.02, shadow=0.25)
        if "lanyard" in extras:
            cord = self.sculpture.mask(
                lambda draw: draw.line(
                    [self.at((-0.2, 1.24)), self.at((0.0, 1.86)), self.at((0.2, 1.24))],
                    fill=255,
                    width=round(self.size(0.03)),
                )
            )
            self.sculpture.paint(cord, trim, 1.0)
            card = self.polygon([(-0.13, 1.84), (0.13, 1.84), (0.13, 2.14), (-0.13, 2.14)])
            self.sculpture.mould(card, (250, 250, 250), roundness=0.02, shadow=0.3)
            self.sculpture.paint(
                self.polygon([(-0.13, 1.84), (0.13, 1.84), (0.13, 1.92), (-0.13, 1.92)]), trim, 1.0
            )
        if "scarf" in extras:
            ring = self.polygon([(-0.32, 1.18), (0.32, 1.18), (0.36, 1.38), (0.0, 1.46), (-0.36, 1.38)])
            self.sculpture.mould(ring, trim, roundness=0.08, shadow=0.3)
            end = self.polygon([(0.12, 1.36), (0.3, 1.36), (0.34, 1.85), (0.18, 1.85)])
            self.sculpture.mould(end, tint(trim, -0.06), roundness=0.06, shadow=0.35)
