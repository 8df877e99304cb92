"""Drawing: fitted text and single emoji put on an image.

Colour emoji fonts (CBDT/sbix bitmaps) only load at their strike size (109 px for Noto Color Emoji): emoji
runs are drawn at that size on a transparent layer, scaled to the text size and composited.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from bot.boxart.typography.fonts import FontDirs, Role, bitmap_px, first_covering, font_chain, load_font
from bot.boxart.typography.layout import Box, Line, Piece, shift, text_args, union
from bot.boxart.typography.runs import TextRun, is_rtl, prepare
from bot.boxart.typography.wrapping import Fit

_ALIGNS = frozenset({"left", "center", "right"})


@dataclass(frozen=True)
class DrawnText:
    """What ``draw_fitted_text`` drew; ``runs`` are in visual (left to right) order, line by line."""

    runs: tuple[TextRun, ...]
    size: int
    lines: tuple[str, ...]
    bbox: Box


def draw_fitted_text(
    img: Image.Image,
    box: Box,
    text: str,
    *,
    role: Role = "body",
    fill: tuple[int, int, int] = (0, 0, 0),
    max_size: int = 64,
    min_size: int = 10,
    max_lines: int = 2,
    align: str = "center",
    stroke_width: int = 0,
    stroke_fill: tuple[int, int, int] | None = None,
    uppercase: bool = False,
    font_dirs: FontDirs | None = None,
) -> DrawnText:
    """Draw ``text`` as large as fits ``box`` (``min_size``..``max_size`` px, up to ``max_lines`` lines,
    centred vertically, aligned horizontally); cut with an ellipsis when even ``min_size`` is too big.
    ``stroke_width`` applies at ``max_size`` and scales with the size; ``font_dirs`` as in ``font_chain``."""
    if align not in _ALIGNS:
        raise ValueError(f"align must be one of {sorted(_ALIGNS)}, not {align!r}")
    text = prepare(text, uppercase)
    left, top, right, bottom = box
    if not text:
        middle = ((left + right) // 2, (top + bottom) // 2)
        return DrawnText((), max_size, (), (*middle, *middle))
    fit = Fit(
        text,
        font_chain(role, font_dirs),
        right - left,
        bottom - top,
        max(1, max_lines),
        stroke_width,
        max_size,
        is_rtl(text),
    )
    block = fit.best(min(min_size, max_size))
    stroke = fit.stroke(block.size)
    y = top + (bottom - top - block.height) // 2 - block.top
    draw = ImageDraw.Draw(img)
    runs: list[TextRun] = []
    drawn: list[Box] = []
    for line, baseline in zip(block.lines, block.baselines, strict=True):
        x = _line_x(line, left, right, align)
        for piece in line.pieces:
            origin = (x + piece.x, y + baseline)
            _draw_piece(img, draw, piece, origin, block.size, fill, stroke, stroke_fill)
            runs.append(piece.run)
            drawn.append(shift(piece.box, *origin))
    return DrawnText(tuple(runs), block.size, block.texts, union(drawn))


def _line_x(line: Line, left: int, right: int, align: str) -> int:
    if align == "left":
        return left - line.box[0]
    if align == "right":
        return right - line.box[2]
    return left + (right - left - line.width) // 2 - line.box[0]


def _draw_piece(
    img: Image.Image,
    draw: ImageDraw.ImageDraw,
    piece: Piece,
    origin: tuple[int, int],
    size: int,
    fill: tuple[int, int, int],
    stroke: int,
    stroke_fill: tuple[int, int, int] | None,
) -> None:
    text, kwargs = text_args(piece.run.text, piece.direction)
    if not piece.run.emoji:
        font = load_font(piece.run.font_path, size)
        options = {"fill": fill, "font": font, "stroke_width": stroke, "stroke_fill": stroke_fill}
        draw.text(origin, text, anchor="ls", **options, **kwargs)
        return
    x0, y0, x1, y1 = piece.box
    layer = _scaled_emoji(piece.run.text, piece.run.font_path, piece.direction, (x1 - x0, y1 - y0))
    composite(img, layer, (origin[0] + x0, origin[1] + y0))


@lru_cache(maxsize=256)
def _scaled_emoji(text: str, path: str, direction: str, size: tuple[int, int]) -> Image.Image:
    return _emoji_layer(text, path, direction).resize(size, Image.Resampling.LANCZOS)


@lru_cache(maxsize=128)
def _emoji_layer(text: str, path: str, direction: str) -> Image.Image:
    """Colour emoji run rendered at the font's strike size on transparency, cropped to its layout box."""
    strike = bitmap_px(path)
    assert strike is not None
    font = load_font(path, strike)
    shaped, kwargs = text_args(text, direction)
    x0, y0, x1, y1 = font.getbbox(shaped, anchor="ls", **kwargs)
    layer = Image.new("RGBA", (max(1, x1 - x0), max(1, y1 - y0)))
    ImageDraw.Draw(layer).text((-x0, -y0), shaped, font=font, anchor="ls", embedded_color=True, **kwargs)
    return layer


def composite(img: Image.Image, layer: Image.Image, xy: tuple[int, int]) -> None:
    """Alpha-composite the RGBA ``layer`` onto ``img`` at ``xy`` (an RGBA ``img`` keeps correct alpha)."""
    if img.mode == "RGBA":
        region = img.crop((xy[0], xy[1], xy[0] + layer.width, xy[1] + layer.height))
        img.paste(Image.alpha_composite(region, layer), xy)
    else:
        img.paste(layer, xy, layer)


def draw_emoji(img: Image.Image, box: Box, text: str, font_dirs: FontDirs | None = None) -> bool:
    """Draw the colour emoji ``text`` centred in ``box``, as large as fits; False (nothing drawn) when no
    colour emoji font has it (``font_dirs`` as in ``font_chain``)."""
    colour_fonts = (path for path in font_chain("body", font_dirs) if bitmap_px(path) is not None)
    path = first_covering(text, colour_fonts) if text else None
    if path is None:
        return False
    layer = _emoji_layer(text, path, "ltr")
    layer = layer.crop(layer.getchannel("A").getbbox() or (0, 0, layer.width, layer.height))
    width, height = box[2] - box[0], box[3] - box[1]
    scale = min(width / layer.width, height / layer.height)
    size = (max(1, round(layer.width * scale)), max(1, round(layer.height * scale)))
    xy = (box[0] + (width - size[0]) // 2, box[1] + (height - size[1]) // 2)
    composite(img, layer.resize(size, Image.Resampling.LANCZOS), xy)
    return True


def clear_caches() -> None:
    """Forget rendered emoji layers."""
    for cached in (_emoji_layer, _scaled_emoji):
        cached.cache_clear()
