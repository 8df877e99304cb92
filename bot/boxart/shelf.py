"""The winners' picture: the top boxed figures of a challenge side by side on a toy-store shelf."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

from bot.boxart.shapes import RGB, fill, rounded, shadow, vertical_gradient
from bot.boxart.typography import draw_fitted_text

SIZE = (1800, 1200)
WALL = ((250, 246, 238), (222, 214, 200))
PLANK_TOP, PLANK_FRONT = (176, 124, 78), (132, 88, 52)
PLANK_Y = 1010  # where the boxes stand
BOX_HEIGHT = 840
MEDALS: dict[int, RGB] = {1: (232, 184, 40), 2: (176, 184, 196), 3: (196, 126, 70)}


def _ordinal(place: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(place, f"{place}th")


def shelf_image(boxes: Sequence[tuple[int, bytes]], title: str) -> Image.Image:
    """``boxes`` (place, encoded figure) standing left to right on a shelf under ``title``."""
    canvas = vertical_gradient(SIZE, *WALL).convert("RGBA")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, PLANK_Y, SIZE[0], PLANK_Y + 26), fill=PLANK_TOP)
    draw.rectangle((0, PLANK_Y + 26, SIZE[0], PLANK_Y + 70), fill=PLANK_FRONT)
    draw_fitted_text(
        canvas, (80, 36, SIZE[0] - 80, 140), title, role="display", fill=(70, 50, 40), max_size=96
    )
    slot = SIZE[0] // max(1, len(boxes))
    for index, (place, data) in enumerate(boxes):
        with Image.open(io.BytesIO(data)) as opened:
            box = opened.convert("RGB")
        box.thumbnail((slot - 80, BOX_HEIGHT), Image.Resampling.LANCZOS)
        left = index * slot + (slot - box.width) // 2
        top = PLANK_Y - box.height
        outline = Image.new("L", SIZE, 0)
        outline.paste(255, (left, top, left + box.width, top + box.height))
        shadow(canvas, outline, (14, 10), 12, 0.35)
        canvas.paste(box, (left, top))
        _medal(canvas, place, (left + box.width - 70, top - 40))
    return canvas.convert("RGB")


def _medal(canvas: Image.Image, place: int, centre: tuple[int, int]) -> None:
    """A round badge with the place on it."""
    x, y = centre
    disc = rounded(canvas.size, (x - 62, y - 62, x + 62, y + 62), 62)
    shadow(canvas, disc, (4, 6), 6, 0.3)
    fill(canvas, disc, MEDALS.get(place, (120, 160, 210)))
    draw_fitted_text(canvas, (x - 50, y - 40, x + 50, y + 40), _ordinal(place), role="display", max_size=56)
