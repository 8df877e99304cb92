"""A painted figure in figurebot's own box art: the model paints the toy, the box is ours (names right)."""

from __future__ import annotations

from PIL import Image

from bot.boxart.compose import figure_limit
from bot.figure.backdrop import key_out_backdrop
from bot.figure.subject import subject_mask
from bot.generators.local import Figure, LocalGenerator
from bot.spec import FigureSpec

SEE_THROUGH = 16  # alpha at or below this counts as transparent


def cut_out(image: Image.Image) -> Image.Image | None:
    """The figure alone (RGBA, cropped): by the picture's own transparency, else by keying out a plain
    backdrop, else by the offline subject cutout; ``None`` when nothing stands out."""
    if image.mode == "RGBA" and image.getchannel("A").getextrema()[0] <= SEE_THROUGH:
        alpha = image.getchannel("A")
        bounds = alpha.point(lambda value: 255 if value > SEE_THROUGH else 0).getbbox()
        return image.crop(bounds) if bounds else None
    keyed = key_out_backdrop(image)
    if keyed is not None:
        return keyed
    mask = subject_mask(image)
    if mask is None:
        return None
    figure = image.convert("RGBA")
    figure.putalpha(mask)
    return figure.crop(mask.getbbox())


def box_painted(boxer: LocalGenerator, image: Image.Image, spec: FigureSpec) -> Image.Image:
    """The painted figure standing in ``boxer``'s box for ``spec``; a picture with nothing to cut out is
    framed whole in the window."""
    figure = cut_out(image)
    if figure is None:
        return boxer.box(Figure(image.convert("RGBA"), "centre"), spec)
    figure.thumbnail(figure_limit(spec.style, boxer.size), Image.Resampling.LANCZOS)
    return boxer.box(Figure(figure, "floor"), spec)
