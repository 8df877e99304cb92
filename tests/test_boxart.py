"""Box art: patterns, layouts, the words on the box and whether they can be read."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from bot.boxart.compose import (
    AGES_TEXT,
    BADGE_RED,
    BADGE_TEXT,
    WHITE,
    BoxText,
    box_text,
    compose_box,
)
from bot.boxart.layout import LAYOUTS, layout_for
from bot.boxart.patterns import PAINTERS, pattern_mask
from bot.themes import (
    GENERIC_TAGLINE,
    MIN_CONTRAST,
    PATTERNS,
    Accessory,
    catalog,
    contrast_ratio,
    find_theme,
    relative_luminance,
)


def test_every_theme_pattern_has_a_painter() -> None:
    assert set(PATTERNS) <= set(PAINTERS)


@pytest.mark.parametrize("name", sorted(PAINTERS))
def test_pattern_covers_part_of_the_card(name: str) -> None:
    coverage = np.asarray(pattern_mask(name, (400, 600), 16), dtype=np.float32).mean() / 255
    assert 0.04 < coverage < 0.75


def test_patterns_differ() -> None:
    masks = {name: pattern_mask(name, (300, 300), 12).tobytes() for name in PAINTERS}
    assert len(set(masks.values())) == len(masks)


def inside(rect: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return outer[0] <= rect[0] < rect[2] <= outer[2] and outer[1] <= rect[1] < rect[3] <= outer[3]


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("style", sorted(LAYOUTS))
@pytest.mark.parametrize("size", [(1024, 1536), (512, 768), (2048, 3072)])
@pytest.mark.parametrize("count", [1, 3, 4])
def test_layout_parts_sit_on_the_card_and_never_overlap(
    style: str, size: tuple[int, int], count: int
) -> None:
    layout = layout_for(style, size)
    canvas = (0, 0, *size)
    slots = layout.slots(count)
    assert len(slots) == count
    parts = [layout.window, layout.plate, *slots]
    for part in [*parts, layout.band, layout.tagline, layout.ages]:
        assert inside(part, layout.card), part
        assert inside(part, canvas)
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            assert not overlap(a, b), (a, b)


# ---------------------------------------------------------------------------------------------
# Words on the box and whether they can be read

SIZE = (1024, 1536)
FIGURE = Image.new("RGBA", (420, 640), (90, 120, 200, 255))  # a plain stand-in for the figure
ACCESSORIES = ("Rocket", "energy drink", "🦄", "Magic Wand")  # all drawn as emoji
FREE_THEMES = (
    "beekeeper",
    "lawyer",
    "sailor",
    "unicorn",
    "barista",
    "宇宙飛行士",
    "coffee wizard of the night shift",
)
STYLED_THEMES = [(key, sorted(LAYOUTS)[i % len(LAYOUTS)]) for i, key in enumerate([*catalog(), *FREE_THEMES])]


@pytest.mark.parametrize("key", list(catalog()))
def test_a_box_without_a_tagline_prints_the_themes_own(key: str) -> None:
    theme = catalog()[key]
    assert box_text("Alex", "", (), theme).tagline == theme.tagline != GENERIC_TAGLINE
    assert box_text("Alex", "Mine!", (), theme).tagline == "Mine!"


def test_a_free_theme_box_gets_a_generated_tagline_and_a_header_that_is_not_its_name() -> None:
    theme = find_theme("beekeeper")
    assert box_text("Alex", "", (), theme).tagline == "Beekeeper to the rescue!"
    assert theme.title_line != "BEEKEEPER SERIES" and "BEEKEEPER" not in theme.title_line


def test_typed_accessories_get_icons_in_the_themes_context() -> None:
    gamer = box_text("Alex", "", ("Headset", "energy drink", "🍕"), find_theme("gamer")).accessories
    assert gamer == (Accessory("Headset", "🎧"), Accessory("Energy drink", "🥤"), Accessory("Pizza", "🍕"))
    astronaut = box_text("Alex", "", ("helmet", "🦄"), find_theme("astronaut")).accessories
    assert astronaut == (Accessory("Helmet", "🧑‍🚀"), Accessory("Unicorn", "🦄"))


def test_fixed_colours_on_the_box_are_readable() -> None:
    assert contrast_ratio(BADGE_TEXT, BADGE_RED) >= MIN_CONTRAST
    assert contrast_ratio(AGES_TEXT, WHITE) >= MIN_CONTRAST


CHANNEL_LUMINANCE = np.array(
    [
        [relative_luminance((v, 0, 0)), relative_luminance((0, v, 0)), relative_luminance((0, 0, v))]
        for v in range(256)
    ]
)


def luminance(pixels: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of each RGB pixel."""
    return CHANNEL_LUMINANCE[pixels, [0, 1, 2]].sum(axis=-1)


def grown(mask: np.ndarray, by: int) -> np.ndarray:
    """``mask`` grown by ``by`` pixels up, down, left and right."""
    out = mask.copy()
    for _ in range(by):
        out[1:] |= out[:-1]
        out[:-1] |= out[1:]
        out[:, 1:] |= out[:, :-1]
        out[:, :-1] |= out[:, 1:]
    return out


def text_contrast(printed: np.ndarray, blank: np.ndarray, rect: tuple[int, int, int, int]) -> float:
    """The contrast of the text in ``rect`` against the card under and around it, from two renders of the
    same box with and without the words: the worst of its 1st-99th percentile background luminances."""
    left, top, right, bottom = rect
    with_text, without = printed[top:bottom, left:right], blank[top:bottom, left:right]
    text = np.abs(with_text - without).max(axis=2) > 24
    core = text & ~grown(~text, 1)  # fully inked pixels, without the anti-aliased edges
    assert core.sum() > 20, "no text found"
    colours, counts = np.unique(with_text[core], axis=0, return_counts=True)
    ink = float(luminance(colours[counts.argmax()]))
    low, high = np.percentile(luminance(without[grown(text, 2)]), (1, 99))
    return max((ink + 0.05) / (high + 0.05), (low + 0.05) / (ink + 0.05))


@pytest.mark.parametrize(("theme_text", "style"), STYLED_THEMES)  # each style on every other theme
def test_every_word_on_the_box_reads_on_what_is_behind_it(theme_text: str, style: str) -> None:
    theme = find_theme(theme_text)
    words = box_text("Alex Example", "", ACCESSORIES, theme)
    blank_theme = dataclasses.replace(theme, name=" ", title_line=" ")
    blank_items = tuple(Accessory("", item.icon) for item in words.accessories)
    printed = np.asarray(compose_box(FIGURE, theme, words, style, SIZE), dtype=np.int16)
    blank = compose_box(FIGURE, blank_theme, BoxText("", "", blank_items), style, SIZE)
    layout = layout_for(style, SIZE)
    areas = {"band": layout.band, "plate": layout.plate, "tagline": layout.tagline}
    areas |= {f"slot {i}": slot for i, slot in enumerate(layout.slots(len(ACCESSORIES)))}
    contrasts = {
        name: text_contrast(printed, np.asarray(blank, np.int16), rect) for name, rect in areas.items()
    }
    assert min(contrasts.values()) >= MIN_CONTRAST, contrasts
