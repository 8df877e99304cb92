"""Tests of the theme catalog, theme lookup, free-text themes and colour contrast."""

from __future__ import annotations

import colorsys
import itertools
import math
import os
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import emoji
import pytest

from bot.themes import (
    BLACK,
    INK,
    MIN_CONTRAST,
    PATTERNS,
    WHITE,
    CatalogError,
    Palette,
    Theme,
    catalog,
    contrast_ratio,
    find_theme,
    load_catalog,
    readable_on,
    readable_text,
    relative_luminance,
    span_contrast,
)

REQUIRED_KEYS = (
    "astronaut",
    "punk-rocker",
    "superhero",
    "office-hero",
    "wizard",
    "knight",
    "pirate",
    "detective",
    "chef",
    "rock-star",
    "gamer",
    "scientist",
    "ninja",
    "cowboy",
)
FREE_WORDS = (
    "beekeeper",
    "plumber",
    "astronomer",
    "surfer",
    "skater",
    "pilot",
    "sailor",
    "dentist",
    "farmer",
    "jockey",
    "viking",
    "samurai",
    "pharaoh",
    "robot",
    "alien",
    "zombie",
    "vampire",
    "ghost",
    "unicorn",
    "dragon",
    "dinosaur",
    "clown",
    "ballerina",
    "boxer",
    "sumo",
    "yeti",
    "elf",
    "dwarf",
    "goblin",
    "fairy",
    "mummy",
    "cyborg",
    "hacker",
    "poet",
    "painter",
    "sculptor",
    "librarian",
    "teacher",
    "nurse",
    "postman",
    "miner",
    "lumberjack",
    "gardener",
    "florist",
    "barista",
    "bartender",
    "butcher",
    "tailor",
    "potter",
    "blacksmith",
    "mechanic",
    "electrician",
    "architect",
    "judge",
    "lawyer",
    "banker",
    "spy",
)
BUNDLED = (resources.files("bot") / "data" / "themes.toml").read_text(encoding="utf-8")
ROOT = Path(__file__).resolve().parent.parent


def saturation(colour: tuple[int, int, int]) -> float:
    """HSV saturation of an RGB colour, 0-1."""
    return colorsys.rgb_to_hsv(*(channel / 255 for channel in colour))[1]


# ---------------------------------------------------------------------------------------------
# Contrast helper


def test_contrast_of_black_on_white_is_21() -> None:
    assert contrast_ratio(BLACK, WHITE) == pytest.approx(21.0)


def test_contrast_of_a_colour_with_itself_is_1() -> None:
    assert contrast_ratio((200, 30, 90), (200, 30, 90)) == pytest.approx(1.0)


def test_contrast_is_symmetric() -> None:
    assert contrast_ratio((11, 31, 77), (255, 122, 0)) == contrast_ratio((255, 122, 0), (11, 31, 77))


def test_contrast_matches_known_wcag_values() -> None:
    assert contrast_ratio((0x77, 0x77, 0x77), WHITE) == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio((0x76, 0x76, 0x76), WHITE) == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("level", range(0, 256, 5))
def test_readable_text_is_readable_on_every_grey(level: int) -> None:
    grey = (level, level, level)
    assert contrast_ratio(readable_text(grey), grey) >= MIN_CONTRAST


@pytest.mark.parametrize("hue", [step / 24 for step in range(24)])
@pytest.mark.parametrize("lightness", [0.2, 0.4, 0.5, 0.6, 0.8])
def test_readable_text_is_readable_on_saturated_colours(hue: float, lightness: float) -> None:
    colour = tuple(round(channel * 255) for channel in colorsys.hls_to_rgb(hue, lightness, 1.0))
    assert contrast_ratio(readable_text(colour), colour) >= MIN_CONTRAST


def test_readable_text_prefers_white_on_dark_and_ink_on_light() -> None:
    assert readable_text((10, 20, 80)) == WHITE
    assert readable_text((255, 230, 0)) != WHITE


def span_of(*colours: tuple[int, int, int]) -> tuple[float, float]:
    luminances = [relative_luminance(colour) for colour in colours]
    return min(luminances), max(luminances)


def test_span_contrast_is_the_contrast_with_the_nearest_end_of_the_span() -> None:
    navy, sky = (11, 31, 77), (58, 134, 255)
    assert span_contrast(WHITE, span_of(navy, sky)) == pytest.approx(contrast_ratio(WHITE, sky))
    assert span_contrast(BLACK, span_of(navy, sky)) == pytest.approx(contrast_ratio(BLACK, navy))
    assert span_contrast((40, 80, 160), span_of(navy, sky)) == 1.0  # inside the span
    assert span_contrast(WHITE, span_of(navy)) == pytest.approx(contrast_ratio(WHITE, navy))


def test_readable_on_keeps_a_readable_colour_and_replaces_an_unreadable_one() -> None:
    pale_green = (241, 250, 238)  # the bottom of the chef card, where white used to be printed
    assert readable_on(span_of((30, 123, 58)), WHITE) == WHITE
    assert readable_on(span_of(pale_green, (212, 232, 214)), WHITE) == INK
    assert readable_on(span_of((0, 0, 0), (40, 40, 40)), INK) == WHITE


@pytest.mark.parametrize("level", range(0, 256, 15))
def test_readable_on_a_narrow_span_always_reads(level: int) -> None:
    span = span_of((level, level, level), (min(255, level + 12),) * 3)
    assert span_contrast(readable_on(span, (128, 0, 128)), span) >= MIN_CONTRAST


# ---------------------------------------------------------------------------------------------
# The bundled catalog


def test_catalog_has_the_required_themes() -> None:
    themes = catalog()
    assert len(themes) >= 14
    assert set(REQUIRED_KEYS) <= themes.keys()


def test_catalog_keeps_the_file_order() -> None:
    assert list(catalog()) == list(tomllib.loads(BUNDLED))


def test_catalog_returns_a_fresh_dict_each_time() -> None:
    first = catalog()
    first.clear()
    assert catalog()


def test_catalog_equals_loading_the_bundled_file() -> None:
    assert load_catalog(BUNDLED) == catalog()


@pytest.mark.parametrize("key", list(catalog()))
def test_every_catalog_theme_is_complete_and_valid(key: str) -> None:
    theme = catalog()[key]
    assert isinstance(theme, Theme)
    assert theme.key == key
    assert theme.in_catalog
    assert theme.pattern in PATTERNS
    assert all(text.strip() for text in (theme.name, theme.title_line, theme.costume, theme.prompt))
    assert theme.title_line == theme.title_line.upper()
    assert theme.name.upper() not in theme.title_line  # the header never says the name twice
    assert 3 <= len(theme.accessories) <= 4
    for item in theme.accessories:
        assert item.label.strip()
        assert len(item.label) <= 24
        assert emoji.is_emoji(item.icon)


@pytest.mark.parametrize("key", list(catalog()))
def test_every_catalog_palette_is_readable(key: str) -> None:
    palette = catalog()[key].palette
    assert contrast_ratio(palette.text, palette.primary) >= MIN_CONTRAST
    assert contrast_ratio(palette.accent_text, palette.accent) >= MIN_CONTRAST


@pytest.mark.parametrize("key", list(catalog()))
def test_every_catalog_palette_is_rgb_and_bold(key: str) -> None:
    palette = catalog()[key].palette
    colours = (palette.primary, palette.secondary, palette.accent, palette.text, palette.accent_text)
    for colour in colours:
        assert len(colour) == 3
        assert all(isinstance(channel, int) and 0 <= channel <= 255 for channel in colour)
    assert max(saturation(colour) for colour in colours[:3]) >= 0.6


@pytest.mark.parametrize("key", list(catalog()))
def test_every_catalog_theme_has_its_own_short_tagline(key: str) -> None:
    tagline = catalog()[key].tagline
    assert tagline.strip() == tagline
    assert 0 < len(tagline) <= 30
    assert tagline != "Collect them all!"
    assert tagline.isascii()  # English, drawn by the bundled fonts


def test_catalog_taglines_differ() -> None:
    taglines = [theme.tagline for theme in catalog().values()]
    assert len(set(taglines)) == len(taglines)


def test_catalog_palettes_are_distinct() -> None:
    primaries = [theme.palette.primary for theme in catalog().values()]
    assert min(math.dist(one, other) for one, other in itertools.combinations(primaries, 2)) >= 40


def test_catalog_uses_every_pattern() -> None:
    assert {theme.pattern for theme in catalog().values()} == set(PATTERNS)


# ---------------------------------------------------------------------------------------------
# Finding catalog themes


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("punk", "punk-rocker"),
        ("punk-rocker", "punk-rocker"),
        ("Punk Rocker", "punk-rocker"),
        ("PUNK ROCKER!", "punk-rocker"),
        ("office", "office-hero"),
        ("Office Hero", "office-hero"),
        ("space", "astronaut"),
        ("astronaut", "astronaut"),
        ("  Astronaut  ", "astronaut"),
        ("rockstar", "rock-star"),
        ("rock star", "rock-star"),
        ("Rock-Star", "rock-star"),
        ("pirates", "pirate"),
        ("Witch", "wizard"),
        ("fire fighter", "firefighter"),
        ("super hero", "superhero"),
        ("\uff30\uff29\uff32\uff21\uff34\uff25", "pirate"),  # fullwidth letters
        ("dj", "dj"),
    ],
)
def test_find_theme_matches_keys_names_and_aliases(text: str, key: str) -> None:
    theme = find_theme(text)
    assert theme.in_catalog
    assert theme.key == key


@pytest.mark.parametrize("key", list(catalog()))
def test_every_catalog_theme_is_found_by_key_and_name(key: str) -> None:
    theme = catalog()[key]
    assert find_theme(key) == theme
    assert find_theme(theme.name) == theme
    assert find_theme(theme.name.upper()) == theme


def test_find_theme_rejects_blank_text() -> None:
    with pytest.raises(ValueError, match="theme"):
        find_theme("   ")


# ---------------------------------------------------------------------------------------------
# Free-text themes


def test_free_text_theme_has_every_field() -> None:
    theme = find_theme("beekeeper")
    assert not theme.in_catalog
    assert theme.key == "beekeeper"
    assert theme.name == "Beekeeper"
    assert theme.title_line in {"COLLECTOR SERIES", "LIMITED EDITION", "SPECIAL EDITION", "DELUXE EDITION"}
    assert theme.tagline == "Beekeeper to the rescue!"
    assert theme.costume == "a beekeeper outfit"
    assert theme.accessories == ()
    assert "beekeeper" in theme.prompt
    assert theme.pattern in PATTERNS
    assert isinstance(theme.palette, Palette)


FREE_NAMES = [
    ("Space Week", "space-week", "Space Week"),
    ("space week", "space-week", "Space Week"),
    ("lord of the rings", "lord-of-the-rings", "Lord of the Rings"),
    ("iPhone fan", "iphone-fan", "iPhone Fan"),
    ("🐝 bee keeper", "bee-keeper", "🐝 Bee Keeper"),
    ("ثعلب", "ثعلب", "ثعلب"),
    ("αστροναύτης", "αστροναύτησ", "αστροναύτης"),  # keys are case-folded
    ("космонавтка", "космонавтка", "космонавтка"),
    ("宇宙飛行士", "宇宙飛行士", "宇宙飛行士"),
    ("straße", "strasse", "Straße"),
]


@pytest.mark.parametrize(("text", "key", "name"), FREE_NAMES)
def test_free_text_theme_names(text: str, key: str, name: str) -> None:
    theme = find_theme(text)
    assert not theme.in_catalog
    assert (theme.key, theme.name) == (key, name)


@pytest.mark.parametrize("text", [text for text, _, _ in FREE_NAMES] + list(FREE_WORDS))
def test_free_text_theme_header_does_not_repeat_the_name(text: str) -> None:
    theme = find_theme(text)
    assert theme.title_line == theme.title_line.upper()
    assert theme.name.upper() not in theme.title_line and theme.name not in theme.title_line
    assert theme.title_line.removesuffix(" SERIES") != theme.name.upper()


@pytest.mark.parametrize("text", [text for text, _, _ in FREE_NAMES] + list(FREE_WORDS))
def test_free_text_theme_has_a_short_tagline_of_its_own(text: str) -> None:
    theme = find_theme(text)
    assert 0 < len(theme.tagline) <= 30
    assert theme.tagline.upper() != theme.title_line
    assert theme.name in theme.tagline or len(theme.name) > 12


def test_free_text_taglines_vary_and_long_names_get_a_generic_one() -> None:
    assert len({find_theme(word).tagline.replace(find_theme(word).name, "") for word in FREE_WORDS}) >= 3
    long = find_theme("coffee wizard of the night shift")
    assert long.name not in long.tagline and len(long.tagline) <= 30


def test_free_text_theme_without_letters_gets_a_hashed_key() -> None:
    theme = find_theme("🐝")
    assert theme.key.startswith("custom-")
    assert theme.key == find_theme("🐝").key != find_theme("🦊").key
    assert theme.name == "🐝"


def test_free_text_theme_article() -> None:
    assert find_theme("elf").costume == "an elf outfit"
    assert find_theme("yeti").costume == "a yeti outfit"


def test_free_text_theme_is_deterministic() -> None:
    assert find_theme("beekeeper") == find_theme("beekeeper")
    assert find_theme("Space  Week").palette == find_theme("space week").palette
    assert find_theme("Space  Week").pattern == find_theme("SPACE WEEK").pattern


def test_free_text_theme_is_the_same_in_every_process() -> None:
    script = "from bot.themes import find_theme; print(find_theme('beekeeper'), find_theme('ثعلب'))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    assert "Beekeeper" in outputs.pop()


def test_different_free_text_usually_gives_different_palettes() -> None:
    themes = [find_theme(word) for word in FREE_WORDS]
    assert not any(theme.in_catalog for theme in themes)
    assert len({theme.palette.primary for theme in themes}) >= len(FREE_WORDS) - 3
    assert {theme.pattern for theme in themes} == set(PATTERNS)


@pytest.mark.parametrize("word", FREE_WORDS)
def test_free_text_palettes_are_readable_and_bold(word: str) -> None:
    palette = find_theme(word).palette
    assert contrast_ratio(palette.text, palette.primary) >= MIN_CONTRAST
    assert contrast_ratio(palette.accent_text, palette.accent) >= MIN_CONTRAST
    assert saturation(palette.primary) >= 0.6
    assert palette.primary != palette.accent


# ---------------------------------------------------------------------------------------------
# Loading a catalog file

VALID = """
[demo]
name = "Demo"
aliases = ["sample"]
title_line = "DEMO SERIES"
tagline = "Demo all day!"
pattern = "dots"
costume = "a demo suit"
prompt = "a demo figure"
accessories = [
    { label = "Cup", icon = "☕" },
    { label = "Star", icon = "⭐" },
    { label = "Gift", icon = "🎁" },
]

[demo.palette]
primary = "#102030"
secondary = "#405060"
accent = "#ffcc00"
text = "#ffffff"
accent_text = "#111111"
"""
FOURTH = '    { label = "Rocket", icon = "🚀" },\n'


def test_load_catalog_reads_a_valid_file() -> None:
    theme = load_catalog(VALID)["demo"]
    assert theme.palette == Palette((16, 32, 48), (64, 80, 96), (255, 204, 0), (255, 255, 255), (17, 17, 17))
    assert [item.label for item in theme.accessories] == ["Cup", "Star", "Gift"]
    assert theme.tagline == "Demo all day!"
    assert theme.in_catalog


def test_load_catalog_accepts_four_accessories() -> None:
    text = VALID.replace('    { label = "Gift"', FOURTH + '    { label = "Gift"')
    assert len(load_catalog(text)["demo"].accessories) == 4


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('name = "Demo"', 'name = "Demo', "not valid TOML"),
        ('costume = "a demo suit"\n', "", "Theme 'demo' is missing the field 'costume'"),
        ('aliases = ["sample"]', 'aliases = ["sample"]\ncolour = "red"', "unknown field 'colour'"),
        ('accent = "#ffcc00"', 'accent = "gold"', "Theme 'demo': palette.accent must be a colour"),
        ('accent = "#ffcc00"', 'accent = "#ffcc0"', "palette.accent"),
        ('primary = "#102030"\n', "", "palette is missing the field 'primary'"),
        ('pattern = "dots"', 'pattern = "zigzag"', "Theme 'demo': pattern must be one of"),
        ('    { label = "Gift", icon = "🎁" },\n', "", "accessories must be a list of 3 or 4"),
        ('    { label = "Gift"', FOURTH * 2 + '    { label = "Gift"', "accessories must be a list of 3 or 4"),
        ('icon = "☕"', 'icon = "C"', "accessories[0].icon must be exactly one emoji"),
        ('icon = "☕"', 'icon = "☕☕"', "accessories[0].icon"),
        ('label = "Cup"', 'label = "A cup of very hot coffee, please"', "accessories[0].label is longer"),
        ('label = "Cup", ', "", "accessories[0] is missing the field 'label'"),
        ('text = "#ffffff"', 'text = "#203040"', "palette.text on palette.primary has a contrast of"),
        ('accent_text = "#111111"', 'accent_text = "#ffffff"', "palette.accent_text on palette.accent"),
        ('name = "Demo"', 'name = "  "', "Theme 'demo': name must be a non-empty string"),
        ('title_line = "DEMO SERIES"', "title_line = 7", "Theme 'demo': title_line"),
        ('tagline = "Demo all day!"\n', "", "Theme 'demo' is missing the field 'tagline'"),
        ('tagline = "Demo all day!"', 'tagline = " "', "Theme 'demo': tagline must be a non-empty string"),
        ('tagline = "Demo all day!"', 'tagline = ["Demo"]', "Theme 'demo': tagline must be a non-empty"),
        ('all day!"', 'all day, every day, all night long!"', "Theme 'demo': tagline is longer than 30"),
        ('aliases = ["sample"]', 'aliases = "sample"', "aliases must be a list"),
        ("[demo]", "[Demo-Theme]", "Theme 'Demo-Theme': the key must be lowercase"),
    ],
)
def test_load_catalog_names_the_broken_theme_and_field(old: str, new: str, expected: str) -> None:
    assert old in VALID
    with pytest.raises(CatalogError) as caught:
        load_catalog(VALID.replace(old, new))
    assert expected in str(caught.value)


def test_load_catalog_rejects_an_alias_used_twice() -> None:
    second = (
        VALID.replace("[demo", "[other")
        .replace('name = "Demo"', 'name = "Other"')
        .replace('aliases = ["sample"]', 'aliases = ["Sample!"]')
    )
    with pytest.raises(
        CatalogError, match="Theme 'other': the alias 'Sample!' already picks the theme 'demo'"
    ):
        load_catalog(VALID + second)


def test_load_catalog_rejects_a_value_that_is_not_a_table() -> None:
    with pytest.raises(CatalogError, match="Theme 'version' must be a table"):
        load_catalog("version = 1\n" + VALID)


def test_load_catalog_rejects_an_empty_file() -> None:
    with pytest.raises(CatalogError, match="no themes"):
        load_catalog("# nothing here\n")


def test_catalog_error_is_a_value_error() -> None:
    assert issubclass(CatalogError, ValueError)
