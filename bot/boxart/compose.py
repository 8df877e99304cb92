"""The packaging around a figure: card, hang tab, blister, compartments, name plate and badges."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageChops, ImageStat

from bot.boxart import icons, typography
from bot.boxart.layout import Layout, Rect, layout_for
from bot.boxart.patterns import pattern_mask, star_points
from bot.boxart.shapes import (
    RGB,
    blurred,
    fill,
    mix,
    polygon_mask,
    rounded,
    shade,
    shadow,
    vertical_gradient,
)
from bot.themes import (
    MIN_CONTRAST,
    Accessory,
    Palette,
    Span,
    Theme,
    best_text,
    readable_on,
    relative_luminance,
    span_contrast,
)

BACKDROP_TOP: RGB = (238, 236, 242)
BACKDROP_BOTTOM: RGB = (196, 194, 204)
WHITE: RGB = (255, 255, 255)
AGES_TEXT: RGB = (30, 30, 30)
BADGE_RED: RGB = (200, 20, 36)
BADGE_TEXT: RGB = (255, 236, 64)
FALLBACK_ACCESSORIES = (Accessory("Star", "⭐"), Accessory("Gift", "🎁"), Accessory("Trophy", "🏆"))
_WASHES = (0.0, 0.25, 0.5, 0.75, 1.0)  # opacities tried, lightest first, to calm a busy background


@dataclass(frozen=True)
class BoxText:
    """The words printed on the box."""

    name: str
    tagline: str
    accessories: tuple[Accessory, ...]


def box_text(name: str, tagline: str, accessories: tuple[str, ...], theme: Theme) -> BoxText:
    """The words for the box: the user's tagline, else the theme's; the user's accessories with icons
    looked up in the theme's context (a lone emoji is labelled with its name), else the theme's."""
    if accessories:
        chosen = tuple(
            Accessory(icons.emoji_label(label) or label[:1].upper() + label[1:], icon or "")
            for label, icon in ((label, icons.accessory_emoji(label, theme)) for label in accessories)
        )
    else:
        chosen = theme.accessories or FALLBACK_ACCESSORIES
    return BoxText(name=name, tagline=tagline or theme.tagline, accessories=chosen)


def _inset(rect: Rect, by: int) -> Rect:
    return rect[0] + by, rect[1] + by, rect[2] - by, rect[3] - by


@lru_cache(maxsize=1)
def _luminance_table() -> np.ndarray:
    """The WCAG relative luminance each 8-bit value of each channel adds up to, as a 3 x 256 table."""
    return np.array(
        [
            [relative_luminance((v, 0, 0)) for v in range(256)],
            [relative_luminance((0, v, 0)) for v in range(256)],
            [relative_luminance((0, 0, v)) for v in range(256)],
        ]
    )


def _span(image: Image.Image) -> Span:
    """The darkest and the lightest luminance in ``image``."""
    pixels = np.asarray(image.convert("RGB"))
    table = _luminance_table()
    luminance = table[0][pixels[..., 0]] + table[1][pixels[..., 1]] + table[2][pixels[..., 2]]
    return float(luminance.min()), float(luminance.max())


def _calm(canvas: Image.Image, rect: Rect, pad: int) -> None:
    """Make sure some text colour reads everywhere in ``rect``: where the card's pattern is too busy for
    any, wash ``rect`` (grown by ``pad``, rounded) with its own average colour, as lightly as will do."""
    area = _inset(rect, -pad)
    crop = canvas.crop(area)
    mask = rounded(crop.size, (0, 0, crop.width - 1, crop.height - 1), 2 * pad)
    red, green, blue = (round(v) for v in ImageStat.Stat(crop.convert("RGB")).mean)
    inner = (pad, pad, crop.width - pad, crop.height - pad)
    for opacity in _WASHES:
        washed = crop.copy()
        fill(washed, mask, (red, green, blue), opacity)
        span = _span(washed.crop(inner))
        if span_contrast(best_text(span), span) >= MIN_CONTRAST:
            break
    canvas.paste(washed, area[:2])


def _print(canvas: Image.Image, rect: Rect, text: str, colour: RGB, calm: int = 0, **style: Any) -> None:
    """Draw ``text`` fitted to ``rect`` in ``colour`` if it reads on all the canvas has there, else in
    whichever of white, ink and black reads best; with ``calm``, first calm a busy background (``_calm``)."""
    if calm:
        _calm(canvas, rect, calm)
    fitted = readable_on(_span(canvas.crop(rect)), colour)
    typography.draw_fitted_text(canvas, rect, text, fill=fitted, **style)


def _card(canvas: Image.Image, layout: Layout, palette: Palette, pattern: str) -> None:
    """Backdrop, the card's shadow, its gradient and pattern, and the hang tab with its slot."""
    size, unit = layout.size, layout.unit
    card_mask = rounded(size, layout.card, layout.radius)
    if layout.tab:
        tab = rounded(size, layout.tab, round(30 * unit))
        card_mask = ImageChops.lighter(card_mask, tab)
    if layout.side:
        left, top, right, bottom = layout.side
        depth = right - left
        side = polygon_mask(
            size, [[(left, top - depth), (right, top), (right, bottom), (left, bottom + depth)]]
        )
        fill(canvas, side, shade(palette.primary, -0.3))
    shadow(canvas, card_mask, (round(10 * unit), round(16 * unit)), 18 * unit, 0.35)
    body = vertical_gradient(size, shade(palette.primary, 0.12), palette.secondary).convert("RGBA")
    motif = pattern_mask(pattern, size, round(22 * unit)).point(lambda v: v * 0.22)
    fill(body, motif, shade(palette.primary, 0.35))
    body.putalpha(card_mask)
    canvas.alpha_composite(body)
    if layout.hole:
        hole = rounded(size, layout.hole, (layout.hole[3] - layout.hole[1]) // 2)
        fill(canvas, hole, BACKDROP_BOTTOM)
        fill(
            canvas,
            rounded(size, layout.hole, (layout.hole[3] - layout.hole[1]) // 2, round(3 * unit)),
            shade(palette.primary, -0.4),
        )


def _band(canvas: Image.Image, layout: Layout, theme: Theme) -> None:
    """The title band: series line and the theme's name in big display type."""
    unit, palette = layout.unit, theme.palette
    left, top, right, bottom = layout.band
    band = polygon_mask(
        layout.size, [[(left, top), (right, top), (right, bottom - 18 * unit), (left, bottom)]]
    )
    if layout.style == "window":
        band = ImageChops.darker(band, rounded(layout.size, layout.card, layout.radius))
    fill(canvas, band, palette.accent)
    pad = round(30 * unit)
    _print(
        canvas,
        (left + pad, top + round(12 * unit), right - pad, top + round(46 * unit)),
        theme.title_line,
        palette.accent_text,
        role="body",
        max_size=round(28 * unit),
        max_lines=1,
        uppercase=True,
    )
    _print(
        canvas,
        (left + pad, top + round(46 * unit), right - pad, bottom - round(22 * unit)),
        theme.name,
        palette.accent_text,
        role="display",
        max_size=round(96 * unit),
        max_lines=1,
        uppercase=True,
        stroke_width=round(3 * unit),
        stroke_fill=shade(palette.accent, -0.5),
    )


def _wells(canvas: Image.Image, layout: Layout, palette: Palette, slot_count: int) -> None:
    """The recessed insides of the window and compartments, the plate and the age pill; each inside
    shaded over its own height, lightest at the bottom, so every compartment's label sits on the same
    light colour."""
    unit = layout.unit
    top, bottom = mix(palette.primary, WHITE, 0.2), mix(palette.secondary, WHITE, 0.55)
    for rect in [layout.window, *layout.slots(slot_count)]:
        mask = rounded(layout.size, rect, round(34 * unit))
        inner = Image.new("RGBA", layout.size)
        inner.paste(vertical_gradient((rect[2] - rect[0], rect[3] - rect[1]), top, bottom), rect[:2])
        inner.putalpha(mask)
        canvas.alpha_composite(inner)
        inner_shadow = blurred(mask, 10 * unit).point(lambda v: 255 - v)
        fill(canvas, ImageChops.darker(inner_shadow, mask), (0, 0, 0), 0.35)
    plate = rounded(layout.size, layout.plate, round(26 * unit))
    shadow(canvas, plate, (0, round(6 * unit)), 6 * unit, 0.3)
    fill(canvas, plate, palette.accent)
    fill(
        canvas,
        rounded(layout.size, _inset(layout.plate, round(8 * unit)), round(20 * unit), round(3 * unit)),
        palette.accent_text,
        0.6,
    )
    fill(canvas, rounded(layout.size, layout.ages, round(14 * unit)), WHITE)
    _print(
        canvas,
        _inset(layout.ages, round(6 * unit)),
        "Ages 4+",
        AGES_TEXT,
        role="body",
        max_size=round(26 * unit),
        max_lines=1,
    )


@lru_cache(maxsize=8)
def _base(theme: Theme, style: str, size: tuple[int, int], slot_count: int) -> Image.Image:
    """Everything that depends only on the theme and style, drawn once and reused."""
    layout = layout_for(style, size)
    canvas = vertical_gradient(size, BACKDROP_TOP, BACKDROP_BOTTOM).convert("RGBA")
    _card(canvas, layout, theme.palette, theme.pattern)
    _band(canvas, layout, theme)
    _wells(canvas, layout, theme.palette, slot_count)
    return canvas


def _film(canvas: Image.Image, rect: Rect, unit: float) -> None:
    """Clear plastic over ``rect``: faint haze, bright rim, and diagonal gloss streaks."""
    size = canvas.size
    radius = round(34 * unit)
    mask = rounded(size, rect, radius)
    fill(canvas, mask, WHITE, 0.08)
    fill(canvas, rounded(size, rect, radius, max(2, round(5 * unit))), WHITE, 0.75)
    fill(
        canvas,
        rounded(size, _inset(rect, round(9 * unit)), round(26 * unit), max(1, round(2 * unit))),
        WHITE,
        0.35,
    )
    left, top, right, bottom = rect
    width = right - left

    streaks = []
    for start, thickness in ((0.12, 0.10), (0.30, 0.04)):
        x0, x1, lean = left + width * start, left + width * (start + thickness), width * 0.35
        streaks.append([(x0, top), (x1, top), (x1 - lean, bottom), (x0 - lean, bottom)])
    gloss = blurred(polygon_mask(size, streaks), 6 * unit)
    fill(canvas, ImageChops.darker(gloss, mask), WHITE, 0.28)


def _badge(canvas: Image.Image, layout: Layout) -> None:
    """A starburst "NEW!" badge over the corner of the window."""
    cx, cy, radius = layout.badge
    burst = polygon_mask(layout.size, [star_points(cx, cy, radius, radius * 0.78, 14)])
    shadow(canvas, burst, (round(4 * layout.unit), round(6 * layout.unit)), 4 * layout.unit, 0.35)
    fill(canvas, burst, BADGE_RED)
    inner = round(radius * 0.62)
    typography.draw_fitted_text(  # on the transparent overlay: colours fixed, see BADGE_TEXT
        canvas,
        (cx - inner, cy - inner, cx + inner, cy + inner),
        "NEW!",
        role="display",
        fill=BADGE_TEXT,
        max_size=round(radius * 0.7),
        max_lines=1,
    )


@lru_cache(maxsize=8)
def _overlay(style: str, size: tuple[int, int], slot_count: int) -> Image.Image:
    """The clear plastic and the badge, drawn once per style and reused over every figure."""
    layout = layout_for(style, size)
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    for rect in [layout.window, *layout.slots(slot_count)]:
        _film(overlay, rect, layout.unit)
    _badge(overlay, layout)
    return overlay


Anchor = Literal["floor", "bottom", "centre"]


def _place_figure(
    canvas: Image.Image, figure: Image.Image, window: Rect, unit: float, anchor: Anchor
) -> None:
    """Put the figure in the window, clipped to the window's shape.

    ``floor``: standing a little above the bottom (a whole person); ``bottom``: flush with it (a photo
    that cuts the person off, so no cut edge shows); ``centre``: in the middle (an object).
    """
    left, top, right, bottom = window
    x = left + (right - left - figure.width) // 2
    offsets = {"floor": bottom - round(26 * unit), "bottom": bottom}
    y = offsets[anchor] - figure.height if anchor in offsets else top + (bottom - top - figure.height) // 2
    alpha = Image.new("L", canvas.size, 0)
    alpha.paste(figure.getchannel("A"), (x, y))
    alpha = ImageChops.darker(alpha, rounded(canvas.size, _inset(window, round(4 * unit)), round(30 * unit)))
    shadow(canvas, alpha, (round(12 * unit), round(10 * unit)), 12 * unit, 0.45)
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    layer.paste(figure, (x, y))
    layer.putalpha(alpha)
    canvas.alpha_composite(layer)


def figure_limit(style: str, size: tuple[int, int]) -> tuple[int, int]:
    """The largest figure (width, height) that fits the window of ``style`` at ``size``."""
    layout = layout_for(style, size)
    left, top, right, bottom = layout.window
    pad = round(40 * layout.unit)
    return right - left - 2 * pad, bottom - top - round(70 * layout.unit)


def compose_box(
    figure: Image.Image,
    theme: Theme,
    text: BoxText,
    style: str,
    size: tuple[int, int],
    anchor: Anchor = "floor",
) -> Image.Image:
    """The finished package as an RGB image: ``figure`` (RGBA) locked in a ``style`` box of ``theme``."""
    layout = layout_for(style, size)
    unit, palette = layout.unit, theme.palette
    accessories = text.accessories[:4]
    canvas = _base(theme, style, size, len(accessories)).copy()
    _place_figure(canvas, figure, layout.window, unit, anchor)
    label_height, label_pad = round(50 * unit), round(8 * unit)
    labels: list[tuple[Rect, str]] = []
    for slot, item in zip(layout.slots(len(accessories)), accessories, strict=True):
        left, top, right, bottom = _inset(slot, round(12 * unit))
        icon_box = (left, top, right, bottom - label_height)
        side = min(icon_box[2] - icon_box[0], icon_box[3] - icon_box[1])
        cx, cy = (icon_box[0] + icon_box[2]) // 2, (icon_box[1] + icon_box[3]) // 2
        icons.draw_icon(
            canvas,
            (cx - side // 2, cy - side // 2, cx + side // 2, cy + side // 2),
            item.label,
            item.icon or None,
            colour=palette.accent,
        )
        label_rect = (left + label_pad, bottom - label_height, right - label_pad, bottom - label_pad // 2)
        labels.append((label_rect, item.label))
    canvas.alpha_composite(_overlay(style, size, len(accessories)))
    for rect, label in labels:  # printed over the plastic, so it is read against what shows through it
        _print(
            canvas,
            rect,
            label,
            shade(palette.primary, -0.75),
            calm=label_pad // 2,
            role="body",
            max_size=round(24 * unit),
            min_size=round(14 * unit),
            max_lines=2,
        )
    _print(
        canvas,
        _inset(layout.plate, round(20 * unit)),
        text.name,
        palette.accent_text,
        role="display",
        max_size=round(110 * unit),
        min_size=round(20 * unit),
        max_lines=2,
    )
    _print(
        canvas,
        layout.tagline,
        text.tagline,
        palette.text,
        calm=round(10 * unit),
        role="body",
        max_size=round(38 * unit),
        max_lines=2,
        align="left",
    )
    return canvas.convert("RGB")
