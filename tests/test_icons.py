"""Accessory icons: label → emoji mapping, colour emoji drawing and the drawn badge fallback."""

from __future__ import annotations

import emoji
import numpy as np
import pytest
from PIL import Image

from bot.boxart import icons, typography
from bot.boxart.icons import accessory_emoji, draw_icon, emoji_label
from bot.themes import MIN_CONTRAST, catalog, contrast_ratio, find_theme

BOX = (20, 20, 120, 120)
RED = (220, 40, 40)


@pytest.fixture(autouse=True)
def system_fonts() -> None:
    missing = typography.missing_system_fonts()
    if missing:
        packages = " ".join(missing)
        pytest.fail(f"system fonts not found; install the Debian package(s): sudo apt-get install {packages}")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("cat", {"🐱", "🐈"}),
        ("guitar", {"🎸"}),
        ("coffee", {"☕"}),
        ("helmet", {"🪖"}),
        ("laptop", {"💻"}),
        ("magic wand", {"🪄"}),
        ("sword", {"🗡️"}),
        ("microscope", {"🔬"}),
        ("teddy bear", {"🧸"}),  # from the emoji names, not the curated table
        ("headphone", {"🎧"}),  # an alias
    ],
)
def test_common_accessories_map_to_emoji(label: str, expected: set[str]) -> None:
    assert accessory_emoji(label) in expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Cats", "🐱"),
        ("swords", "🗡️"),
        ("knives", "🔪"),
        ("batteries", "🔋"),
        ("Magic_Wand", "🪄"),
        ("  MAGIC-wand ", "🪄"),
        ("the treasure map", "🗺️"),
        ("chef's hat", "🧑‍🍳"),
        ("red electric guitar", "🎸"),
    ],
)
def test_labels_are_normalised(label: str, expected: str) -> None:
    assert accessory_emoji(label) == expected


def test_an_emoji_in_the_label_wins_and_is_given_emoji_presentation() -> None:
    assert accessory_emoji("my 🐈 friend") == "🐈"
    assert accessory_emoji("👩🏽‍🚀 suit") == "👩🏽‍🚀"
    assert accessory_emoji("🗡 dagger") == "🗡️"  # text-style dagger gets its emoji selector


COMMON_WORDS = [
    ("book", {"📖", "📕", "📗", "📘", "📙"}),
    ("umbrella", {"☂️", "☔"}),
    ("camera", {"📷", "📸"}),
    ("skateboard", {"🛹"}),
    ("ball", {"⚽", "🏀", "🏐"}),
    ("pizza", {"🍕"}),
    ("flower", {"🌸", "🌷", "🌼", "🌺", "💐"}),
    ("trophy", {"🏆"}),
    ("pen", {"🖊️", "✒️"}),
    ("sword", {"🗡️", "⚔️"}),
    ("bow", {"🏹"}),  # not a person bowing
    ("drum", {"🥁", "🪘"}),
    ("hat", {"🎩", "👒", "🧢"}),
    ("teddy", {"🧸"}),
    ("bag", {"👜", "🎒", "💼"}),
    ("donut", {"🍩"}),
    ("burger", {"🍔"}),
    ("cup", {"☕", "🥤", "🍵"}),
    ("tree", {"🌳", "🌲"}),
    ("leaf", {"🍁", "🍃", "🌿"}),
    ("diamond", {"💎"}),
    ("money", {"💰", "💵"}),
    ("honey", {"🍯"}),
    ("medal", {"🏅", "🥇"}),
    ("flag", {"🚩", "🏁"}),
    ("moon", {"🌙"}),
    ("piano", {"🎹"}),
    ("dice", {"🎲"}),
    ("puzzle", {"🧩"}),
    ("plane", {"✈️"}),
    ("fishing rod", {"🎣"}),
    ("paintbrush", {"🖌️"}),
    ("palette", {"🎨"}),
    ("clock", {"⏰", "🕰️"}),
    ("socks", {"🧦"}),
    ("skates", {"⛸️", "🛼"}),
]


@pytest.mark.parametrize(("label", "expected"), COMMON_WORDS)
def test_common_words_get_a_fitting_emoji(label: str, expected: set[str]) -> None:
    assert accessory_emoji(label) in expected
    assert accessory_emoji(label.upper()) in expected


CATALOG_ITEMS = [
    (key, item.label, item.icon) for key, theme in catalog().items() for item in theme.accessories
]


@pytest.mark.parametrize(("key", "label", "icon"), CATALOG_ITEMS)
def test_catalog_labels_get_their_catalog_icon_in_any_case(key: str, label: str, icon: str) -> None:
    theme = find_theme(key)
    for typed in (label, label.lower(), label.upper(), f"  {label.lower()}  ", f"my {label.lower()}"):
        assert accessory_emoji(typed, theme) == icon, typed


@pytest.mark.parametrize(("key", "label", "icon"), CATALOG_ITEMS)
def test_catalog_labels_get_an_emoji_in_any_theme(key: str, label: str, icon: str) -> None:
    assert accessory_emoji(label.lower()) is not None
    assert accessory_emoji(label.lower(), find_theme("beekeeper")) is not None


@pytest.mark.parametrize(
    ("label", "expected"),
    [("Headset", "🎧"), ("energy drink", "🥤"), ("ENERGY DRINKS", "🥤"), ("moon rock", "🪨"), ("dna", "🧬")],
)
def test_catalog_labels_are_found_without_a_theme(label: str, expected: str) -> None:
    assert accessory_emoji(label) == expected


@pytest.mark.parametrize(("key", "label", "icon"), CATALOG_ITEMS)
def test_catalog_icons_are_single_fully_qualified_emoji(key: str, label: str, icon: str) -> None:
    assert emoji.EMOJI_DATA[icon]["status"] == emoji.STATUS["fully_qualified"], (key, label)


@pytest.mark.parametrize(
    ("key", "label", "icon"),
    [
        ("astronaut", "Helmet", "🧑‍🚀"),  # not the soldier's 🪖
        ("astronaut", "Moon Rock", "🪨"),
        ("pirate", "Gold Coins", "🪙"),
        ("superhero", "Power Crystal", "💎"),  # was a Mask shown as theatre masks
        ("ninja", "Secret Scroll", "📜"),  # was a Throwing Star shown as a yellow star
        ("dj", "Boombox", "📻"),  # was a Vinyl Record shown as a CD
    ],
)
def test_catalog_icons_show_the_thing_in_its_theme(key: str, label: str, icon: str) -> None:
    assert (label, icon) in {(item.label, item.icon) for item in catalog()[key].accessories}


def test_icons_follow_the_theme_the_word_is_typed_in() -> None:
    assert accessory_emoji("helmet", find_theme("astronaut")) == "🧑‍🚀"
    assert accessory_emoji("helmet", find_theme("knight")) == "🪖"
    assert accessory_emoji("helmet") == "🪖"
    assert accessory_emoji("horse", find_theme("cowboy")) == "🐴"
    assert accessory_emoji("horse", find_theme("knight")) == "🐎"
    assert accessory_emoji("lasso") == accessory_emoji("lasso", find_theme("cowboy")) == "🪢"


@pytest.mark.parametrize("typed", ["🍕", "🦄", " 🦄 ", "🧑‍🚀", "👍🏽", "🏳️‍🌈"])
def test_an_accessory_typed_as_an_emoji_is_that_emoji(typed: str) -> None:
    assert accessory_emoji(typed) == typed.strip()
    assert accessory_emoji(typed, find_theme("chef")) == typed.strip()


@pytest.mark.parametrize(
    ("typed", "name"),
    [("🍕", "Pizza"), ("🦄", "Unicorn"), ("☂", "Umbrella"), ("👍🏽", "Thumbs up"), ("🏳️‍🌈", "Rainbow flag")],
)
def test_a_lone_emoji_is_labelled_with_its_name(typed: str, name: str) -> None:
    assert emoji_label(typed) == name


@pytest.mark.parametrize("typed", ["pizza", "my 🍕", "🍕🍕", ""])
def test_only_a_lone_emoji_gets_a_name(typed: str) -> None:
    assert emoji_label(typed) is None


@pytest.mark.parametrize("label", ["xyzzy", "", "   ", "flibbertigibbet gizmo"])
def test_unknown_labels_have_no_emoji(label: str) -> None:
    assert accessory_emoji(label) is None


def test_curated_emoji_are_fully_qualified() -> None:
    statuses = {char: emoji.EMOJI_DATA.get(char, {}).get("status") for char in icons._OVERRIDES.values()}
    assert all(status == emoji.STATUS["fully_qualified"] for status in statuses.values()), statuses


def colourful(img: Image.Image) -> np.ndarray:
    pixels = np.asarray(img.convert("RGB")).astype(int)
    return (pixels.max(axis=2) - pixels.min(axis=2)) > 60


def np_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    return None if len(xs) == 0 else (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def inside(inner: tuple[int, int, int, int] | None, outer: tuple[int, int, int, int]) -> bool:
    assert inner is not None, "nothing was drawn"
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


@pytest.mark.parametrize("label", ["cat", "guitar", "magic wand", "🍕", "🦄"])
def test_draw_icon_draws_the_colour_emoji_centred_in_the_box(label: str) -> None:
    img = Image.new("RGB", (140, 160), (255, 255, 255))
    assert draw_icon(img, BOX, label, accessory_emoji(label), colour=RED)
    drawn = np_bbox(np.any(np.asarray(img) != 255, axis=2))
    assert inside(drawn, BOX)
    assert drawn is not None and max(drawn[2] - drawn[0], drawn[3] - drawn[1]) >= 95  # fills the box
    assert abs((drawn[0] + drawn[2]) / 2 - 70) <= 2 and abs((drawn[1] + drawn[3]) / 2 - 70) <= 2
    assert colourful(img).sum() > 1000


@pytest.mark.parametrize(
    ("label", "initials"), [("xyzzy", "X"), ("magic wand", "MW"), ("猫", "猫"), ("قطة", "ق")]
)
def test_draw_icon_without_emoji_draws_a_badge_with_initials(label: str, initials: str) -> None:
    img = Image.new("RGB", (140, 160), (255, 255, 255))
    assert not draw_icon(img, BOX, label, None, colour=RED)
    pixels = np.asarray(img).astype(int)
    badge = np.all(np.abs(pixels - RED) < 8, axis=2)
    assert inside(np_bbox(np.any(pixels != 255, axis=2)), BOX)
    assert 0.5 < badge[20:120, 20:120].mean() < 0.97  # mostly badge colour, with the letters on it
    assert pixels[20, 20].tolist() == [255, 255, 255]  # rounded corner
    letters = np.all(pixels > 240, axis=2)[35:105, 35:105]  # white ink on the dark red badge
    assert letters.sum() > 100
    assert icons._initials(label).upper() == initials


@pytest.mark.parametrize("colour", [(0, 150, 0), (250, 220, 80), (40, 40, 160), (0, 170, 190)])
def test_badge_initials_read_on_the_badge(colour: tuple[int, int, int]) -> None:
    img = Image.new("RGB", (140, 160), (255, 255, 255))
    draw_icon(img, BOX, "xyzzy", None, colour=colour)
    pixels = np.asarray(img)[40:100, 40:100].reshape(-1, 3).astype(int)
    ink = pixels[np.abs(pixels - colour).sum(axis=1).argmax()]
    assert contrast_ratio(tuple(int(c) for c in ink), colour) >= MIN_CONTRAST


def test_draw_icon_falls_back_to_the_badge_when_the_emoji_font_lacks_the_text() -> None:
    img = Image.new("RGB", (140, 160), (255, 255, 255))
    assert not draw_icon(img, BOX, "cat", "abc", colour=(250, 220, 80))
    assert np.all(np.abs(np.asarray(img).astype(int) - (250, 220, 80)) < 8, axis=2).mean() > 0.2


def test_draw_icon_keeps_transparent_backgrounds_transparent() -> None:
    for emoji_char in ("🐱", None):
        img = Image.new("RGBA", (140, 160), (0, 0, 0, 0))
        draw_icon(img, BOX, "cat", emoji_char, colour=RED)
        alpha = np.asarray(img.getchannel("A"))
        assert inside(np_bbox(alpha > 0), BOX)
        assert alpha[70, 70] == 255 and alpha[20, 20] < 64
