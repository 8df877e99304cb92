"""Build the whole toy: body, costume, the person's head, headgear and the accessory in hand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from bot.boxart.icons import draw_icon
from bot.figure.body import Body
from bot.figure.glaze import make_toy
from bot.figure.head import cut_head
from bot.figure.headgear import BEHIND, Headgear
from bot.figure.outfit import Outfit
from bot.figure.plastic import RGB
from bot.figure.pose import Pose
from bot.figure.sculpt import Sculpture

CANVAS_HEADS = (4.8, 6.6)  # room for the figure, in head units: the stand, a tall hat and a raised hand
FIGURE_HEADS = (4.4, 5.5)  # what a figure takes without a tall hat: its size in the window
HELD_SIZE = 1.25  # the accessory in hand, in head units
# What a pet or an object wears instead of headgear made to frame a face: "dome" is a glass dome over it all.
SUBJECT_HEADGEAR = {
    "space-helmet": "dome",
    "hood": "bandana",
    "knight-helmet": "none",
    "headset": "headphones",
}


@dataclass(frozen=True)
class Held:
    """The accessory in the figure's hand: its label and emoji (None draws a badge of its initials)."""

    label: str
    icon: str | None
    colour: tuple[int, int, int]


def _held_picture(held: Held, side: int) -> Image.Image:
    picture = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw_icon(picture, (0, 0, side, side), held.label, held.icon, colour=held.colour)
    return picture


def _sculpture(pose: Pose, limit: tuple[int, int]) -> tuple[Sculpture, tuple[float, float]]:
    """A canvas sized so a figure without a tall hat fills ``limit``, and the top of the head on it."""
    scale = min(limit[0] / FIGURE_HEADS[0], limit[1] / FIGURE_HEADS[1])
    sculpture = Sculpture((round(scale * CANVAS_HEADS[0]), round(scale * CANVAS_HEADS[1])), scale, pose.light)
    return sculpture, (sculpture.drawing_size[0] / 2, sculpture.unit * 1.2)


def build_person(
    photo: Image.Image,
    mask: Image.Image,
    face: tuple[int, int, int, int],
    outfit: Outfit,
    pose: Pose,
    held: Held | None,
    limit: tuple[int, int],
) -> Image.Image:
    """The posed, dressed toy of the person whose face is ``face``, as RGBA fitted inside ``limit``."""
    sculpture, origin = _sculpture(pose, limit)
    unit = sculpture.unit
    head = cut_head(photo, mask, face, unit, pose.light)
    body = Body(sculpture, origin, pose, outfit, head.skin)

    left, top, right, bottom = head.face
    chin = body.at(pose.neck)
    head_at = (round(chin[0] - (left + right) / 2), round(chin[1] - bottom))
    face_box = (head_at[0] + left, head_at[1] + top, head_at[0] + right, head_at[1] + bottom)
    gear = Headgear(sculpture, face_box, outfit.headgear_colour, outfit.trim_colour)

    body.stand()
    body.cape()
    if outfit.headgear in BEHIND:
        gear.draw_behind(outfit.headgear)
    body.legs()
    body.neck()
    torso = body.torso()
    if "belt" in outfit.extras or "sash" in outfit.extras:
        body.belt(torso)
    body.extras(torso)
    body.emblem(torso)
    if "sparkles" in outfit.extras:
        body.sparkle(torso)
    for index in (0, 1):
        body.arm(index)
        if held is not None and index == pose.holding:
            side = round(HELD_SIZE * unit)
            hx, hy = body.at(pose.hands[index])
            sculpture.place(_held_picture(held, side), (round(hx - side / 2), round(hy - side * 0.62)))
        body.hand(index)
    sculpture.place(head.image, head_at, shadow=0.3)
    if "goggles" in outfit.extras:
        gear.goggles(outfit.trim_colour)
    if "shades" in outfit.extras:
        gear.shades()
    gear.draw_front(outfit.headgear)
    return _fitted(sculpture.image, limit)


def _fitted(image: Image.Image, limit: tuple[int, int]) -> Image.Image:
    """What was drawn, cropped, and scaled down when a tall hat or a raised hand takes it past ``limit``."""
    image = image.crop(image.getchannel("A").getbbox() or (0, 0, *image.size))
    scale = min(1.0, limit[0] / image.width, limit[1] / image.height)
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def _top_centre(mask: Image.Image) -> tuple[float, float, float]:
    """Where the top of a subject is in ``mask``: the x-centre and width of its top fifth, and its top y."""
    box = mask.getbbox() or (0, 0, *mask.size)
    band = mask.crop((box[0], box[1], box[2], box[1] + max(1, (box[3] - box[1]) // 5)))
    columns = np.asarray(band, dtype=np.float32).sum(axis=0)
    xs = np.nonzero(columns > columns.max() * 0.2)[0] if columns.max() > 0 else np.array([0, band.width - 1])
    return box[0] + float(xs.mean()), float(xs[-1] - xs[0] + 1), float(box[1])


def build_subject(
    photo: Image.Image, mask: Image.Image, outfit: Outfit, pose: Pose, limit: tuple[int, int]
) -> Image.Image:
    """The subject of ``photo`` where ``mask`` is set (a pet, an object, or the framed picture) as a glossy
    collectible on the stand, wearing the costume's headgear or cape."""
    sculpture, origin = _sculpture(pose, limit)
    unit = sculpture.unit
    body = Body(sculpture, origin, pose, outfit, outfit.trim_colour)
    subject = make_toy(photo, mask, (round(unit * 3.6), round(unit * 4.1)))
    feet = body.at((0.0, max(y for _, y in pose.ankles) + 0.3))
    corner = (origin[0] - subject.width / 2, feet[1] - subject.height)
    centre_x, top_width, top = _top_centre(subject.getchannel("A"))
    width = max(unit * 0.5, min(top_width * 0.5, subject.width * 0.42, unit * 1.2))
    left, brow = corner[0] + centre_x - width / 2, corner[1] + top + subject.height * 0.12
    gear = Headgear(
        sculpture, (left, brow, left + width, brow + width * 1.1), outfit.headgear_colour, outfit.trim_colour
    )
    headgear = SUBJECT_HEADGEAR.get(outfit.headgear, outfit.headgear)
    body.stand()
    if outfit.cape_colour is not None or headgear == "none":
        _subject_cape(sculpture, corner, subject, outfit.cape_colour or outfit.trim_colour)
    sculpture.place(subject, corner)
    if headgear == "dome":
        _glass_dome(sculpture, corner, subject.size, outfit.headgear_colour)
    else:
        gear.draw_front(headgear)
    return _fitted(sculpture.image, limit)


def _subject_cape(
    sculpture: Sculpture, corner: tuple[float, float], subject: Image.Image, colour: RGB
) -> None:
    """A cape behind a pet or an object, from its upper third down to the stand."""
    left, top = corner
    width, height = subject.size
    points = [
        (left + width * 0.1, top + height * 0.3), (left + width * 0.9, top + height * 0.3),
        (left + width * 1.15, top + height), (left - width * 0.15, top + height),
    ]  # fmt: skip
    sculpture.mould(
        sculpture.mask(lambda draw: draw.polygon(points, fill=255)), colour, roundness=0.3, shadow=0
    )


def _glass_dome(sculpture: Sculpture, corner: tuple[float, float], size: tuple[int, int], rim: RGB) -> None:
    """A clear display dome over a pet or an object, like a space helmet, with its collar ring."""
    left, top = corner
    width, height = size
    box = (left - width * 0.08, top - height * 0.12, left + width * 1.08, top + height * 1.02)
    glass = sculpture.mask(lambda draw: draw.ellipse(box, fill=255))
    sculpture.paint(glass, (200, 225, 255), 0.14)
    outline = round(sculpture.unit * 0.06)
    sculpture.mould(
        sculpture.mask(lambda draw: draw.ellipse(box, outline=255, width=outline)), rim, 0.04, 0.2
    )
    shine = (box[0] + width * 0.12, box[1] + height * 0.1, box[2] - width * 0.12, box[3] - height * 0.1)
    sculpture.paint(
        sculpture.mask(lambda draw: draw.arc(shine, 200, 245, fill=255, width=outline)), (255, 255, 255), 0.8
    )
