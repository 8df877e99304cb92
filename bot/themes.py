"""Themes: the catalog in ``bot/data/themes.toml`` and themes made up on the spot from free text.

A theme decides the look of the box (palette, card pattern, series line, default tagline), the
figure's default costume and accessories, and the words handed to image generators. Any text is a
valid theme: words that match a catalog theme or one of its aliases pick that theme, anything else
gets a theme of its own whose colours, pattern, series line and tagline come from a stable hash of it.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import emoji

PATTERNS = ("stars", "stripes", "dots", "checker", "bolts", "waves", "grid", "sparkles", "rays", "hex")
MIN_CONTRAST = 4.5  # WCAG AA for normal text
GENERIC_TAGLINE = "Collect them all!"

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
INK: RGB = (17, 17, 17)
BLACK: RGB = (0, 0, 0)


@dataclass(frozen=True)
class Palette:
    """The colours of one box."""

    primary: RGB  # main card colour
    secondary: RGB  # gradient end / pattern colour on the card
    accent: RGB  # title band, badges, name plate
    text: RGB  # text drawn on primary
    accent_text: RGB  # text drawn on accent


@dataclass(frozen=True)
class Accessory:
    """One item in a compartment of the box."""

    label: str
    icon: str  # one emoji


@dataclass(frozen=True)
class Theme:
    """Everything a theme decides about a figure and its box."""

    key: str  # catalog key, or a slug of the text for free-text themes
    name: str  # display name
    title_line: str  # series line printed on the box
    palette: Palette
    pattern: str  # one of PATTERNS
    costume: str  # default costume
    accessories: tuple[Accessory, ...]  # default accessories; empty for free-text themes
    prompt: str  # how the look is described to image generators
    in_catalog: bool
    tagline: str = GENERIC_TAGLINE  # printed under the name when the user gives none


class CatalogError(ValueError):
    """The theme catalog file is broken; the message names the theme and the field."""


# ---------------------------------------------------------------------------------------------
# Colour contrast


def _linear(channel: int) -> float:
    """An sRGB channel (0-255) on a linear-light scale (0-1)."""
    value = channel / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: RGB) -> float:
    """The WCAG relative luminance of ``colour``, from 0 (black) to 1 (white)."""
    red, green, blue = (_linear(channel) for channel in colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: RGB, second: RGB) -> float:
    """The WCAG contrast ratio of two colours, from 1 (same) to 21 (black on white)."""
    darker, lighter = sorted((relative_luminance(first), relative_luminance(second)))
    return (lighter + 0.05) / (darker + 0.05)


def readable_text(background: RGB) -> RGB:
    """White or near-black, whichever reads better on ``background``; black if neither is enough.

    Either pure white or pure black always reaches 4.58:1, so the result meets ``MIN_CONTRAST``.
    """
    luminance = relative_luminance(background)
    return best_text((luminance, luminance))


Span = tuple[float, float]  # the lowest and highest relative luminance found on a background


def span_contrast(colour: RGB, span: Span) -> float:
    """The lowest WCAG contrast of ``colour`` against any luminance in ``span`` (1 when it lies inside)."""
    luminance, (darkest, lightest) = relative_luminance(colour), span
    if luminance >= lightest:
        return (luminance + 0.05) / (lightest + 0.05)
    if luminance <= darkest:
        return (darkest + 0.05) / (luminance + 0.05)
    return 1.0


def best_text(span: Span) -> RGB:
    """White or near-black, whichever reads better on all of ``span``; else whichever of white and black
    reads best (which may still fall short on a background that is both dark and light)."""
    best = max((WHITE, INK), key=lambda colour: span_contrast(colour, span))
    if span_contrast(best, span) >= MIN_CONTRAST:
        return best
    return max((WHITE, BLACK), key=lambda colour: span_contrast(colour, span))


def readable_on(span: Span, preferred: RGB) -> RGB:
    """``preferred`` if it reads on all of a background's luminance ``span``, else white, ink or black."""
    return preferred if span_contrast(preferred, span) >= MIN_CONTRAST else best_text(span)


# ---------------------------------------------------------------------------------------------
# Loading and validating the catalog

_THEME_FIELDS = frozenset(
    {"name", "aliases", "title_line", "tagline", "pattern", "costume", "prompt", "palette", "accessories"}
)
_PALETTE_FIELDS = ("primary", "secondary", "accent", "text", "accent_text")
_ACCESSORY_FIELDS = frozenset({"label", "icon"})
_ACCESSORY_COUNT = range(3, 5)
_LABEL_LIMIT = 24  # the longest accessory a user may type, see bot.spec.LIMITS
_TAGLINE_LIMIT = 30  # a catalog tagline fits the box on one line
_KEY_FORMAT = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_COLOUR_FORMAT = re.compile(r"#[0-9a-fA-F]{6}")
_WORD = re.compile(r"[^\W_]+")


def _fields(table: Any, expected: frozenset[str], where: str) -> dict[str, Any]:
    """``table`` if it is a table with exactly the ``expected`` fields."""
    if not isinstance(table, dict):
        raise CatalogError(f"{where} must be a table.")
    if missing := sorted(expected - table.keys()):
        raise CatalogError(f"{where} is missing the field '{missing[0]}'.")
    if unknown := sorted(table.keys() - expected):
        raise CatalogError(f"{where} has an unknown field '{unknown[0]}'.")
    return table


def _text(value: Any, where: str) -> str:
    """``value`` if it is a non-blank string."""
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where} must be a non-empty string.")
    return value


def _short(value: Any, limit: int, where: str) -> str:
    """``value`` if it is a non-blank string of at most ``limit`` characters."""
    text = _text(value, where)
    if len(text) > limit:
        raise CatalogError(f"{where} is longer than {limit} characters.")
    return text


def _colour(value: Any, where: str) -> RGB:
    """A ``"#rrggbb"`` string as an RGB tuple."""
    if not isinstance(value, str) or not _COLOUR_FORMAT.fullmatch(value):
        raise CatalogError(f"{where} must be a colour written as '#rrggbb', not {value!r}.")
    return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))


def _check_contrast(foreground: RGB, background: RGB, where: str) -> None:
    """Raise unless ``foreground`` is readable on ``background``."""
    ratio = contrast_ratio(foreground, background)
    if ratio < MIN_CONTRAST:
        raise CatalogError(f"{where} has a contrast of {ratio:.2f}:1; it needs at least {MIN_CONTRAST}:1.")


def _palette(table: Any, where: str) -> Palette:
    """The palette table of a theme, checked for format and contrast."""
    table = _fields(table, frozenset(_PALETTE_FIELDS), f"{where}: palette")
    palette = Palette(
        **{field: _colour(table[field], f"{where}: palette.{field}") for field in _PALETTE_FIELDS}
    )
    _check_contrast(palette.text, palette.primary, f"{where}: palette.text on palette.primary")
    _check_contrast(palette.accent_text, palette.accent, f"{where}: palette.accent_text on palette.accent")
    return palette


def _accessory(table: Any, where: str) -> Accessory:
    """One accessory table: a short label and a single emoji."""
    table = _fields(table, _ACCESSORY_FIELDS, where)
    label = _short(table["label"], _LABEL_LIMIT, f"{where}.label")
    icon = table["icon"]
    if not isinstance(icon, str) or not emoji.is_emoji(icon):
        raise CatalogError(f"{where}.icon must be exactly one emoji, not {icon!r}.")
    return Accessory(label=label, icon=icon)


def _accessories(value: Any, where: str) -> tuple[Accessory, ...]:
    """The 3 or 4 default accessories of a theme."""
    if not isinstance(value, list) or len(value) not in _ACCESSORY_COUNT:
        raise CatalogError(f"{where}: accessories must be a list of 3 or 4 items.")
    return tuple(_accessory(item, f"{where}: accessories[{index}]") for index, item in enumerate(value))


def _aliases(value: Any, where: str) -> tuple[str, ...]:
    """The alias list of a theme."""
    if not isinstance(value, list):
        raise CatalogError(f"{where}: aliases must be a list of strings.")
    return tuple(_text(alias, f"{where}: aliases[{index}]") for index, alias in enumerate(value))


def _build_theme(key: str, table: Any) -> tuple[Theme, tuple[str, ...]]:
    """One validated catalog theme and its aliases."""
    where = f"Theme '{key}'"
    if not _KEY_FORMAT.fullmatch(key):
        raise CatalogError(f"{where}: the key must be lowercase words joined by hyphens.")
    table = _fields(table, _THEME_FIELDS, where)
    pattern = table["pattern"]
    if pattern not in PATTERNS:
        raise CatalogError(f"{where}: pattern must be one of {', '.join(PATTERNS)}, not {pattern!r}.")
    theme = Theme(
        key=key,
        name=_text(table["name"], f"{where}: name"),
        title_line=_text(table["title_line"], f"{where}: title_line"),
        palette=_palette(table["palette"], where),
        pattern=pattern,
        costume=_text(table["costume"], f"{where}: costume"),
        accessories=_accessories(table["accessories"], where),
        prompt=_text(table["prompt"], f"{where}: prompt"),
        in_catalog=True,
        tagline=_short(table["tagline"], _TAGLINE_LIMIT, f"{where}: tagline"),
    )
    return theme, _aliases(table["aliases"], where)


def _match_key(text: str) -> str:
    """``text`` reduced for matching: compatibility-normalised, case-folded, letters and digits only."""
    return "".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def _parse(text: str) -> tuple[dict[str, Theme], dict[str, str]]:
    """The themes of a catalog file and the index from every match key to a theme key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"The theme catalog is not valid TOML: {error}") from error
    themes: dict[str, Theme] = {}
    index: dict[str, str] = {}
    for key, table in data.items():
        theme, aliases = _build_theme(key, table)
        themes[key] = theme
        for word in (key, theme.name, *aliases):
            owner = index.setdefault(_match_key(word), key)
            if owner != key:
                raise CatalogError(f"Theme '{key}': the alias {word!r} already picks the theme '{owner}'.")
    if not themes:
        raise CatalogError("The theme catalog has no themes.")
    return themes, index


def load_catalog(text: str) -> dict[str, Theme]:
    """The themes of a catalog file's ``text``, in file order; raises CatalogError if anything is wrong."""
    return _parse(text)[0]


@cache
def _bundled() -> tuple[dict[str, Theme], dict[str, str]]:
    """The bundled catalog and its match index, read once."""
    return _parse((resources.files("bot") / "data" / "themes.toml").read_text(encoding="utf-8"))


def catalog() -> dict[str, Theme]:
    """The bundled themes by key, in file order (a fresh dict; the themes themselves are shared)."""
    return dict(_bundled()[0])


# ---------------------------------------------------------------------------------------------
# Finding a theme, or making one up from free text

_MUDDY_WHEN_DARK = (0.10, 0.22)  # hues (yellows) that turn olive on a dark card
_SMALL_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"})
# Free themes print their name big on the box, so the series line above it and the tagline never repeat it
# on their own: a generic series line, and the name in a slogan (a generic one when the name is long).
_FREE_SERIES = ("COLLECTOR SERIES", "LIMITED EDITION", "SPECIAL EDITION", "DELUXE EDITION")
_FREE_TAGLINES = ("The one and only {name}!", "{name}, ready for action!", "{name} to the rescue!")
_GENERIC_TAGLINES = (GENERIC_TAGLINE, "Ready for action!", "One of a kind!")


def _is_latin(char: str) -> bool:
    """Whether ``char`` is a Latin letter."""
    return unicodedata.name(char, "").startswith("LATIN")


def _title(text: str) -> str:
    """Title case for Latin words that are all lower case; other words and scripts stay as typed."""
    words = text.split(" ")
    for position, word in enumerate(words):
        if word.islower() and _is_latin(word[0]) and (position == 0 or word not in _SMALL_WORDS):
            words[position] = word[0].upper() + word[1:]
    return " ".join(words)


def _rgb(hue: float, lightness: float, saturation: float) -> RGB:
    """An HLS colour (all 0-1, hue wrapping) as 8-bit RGB."""
    red, green, blue = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return (round(red * 255), round(green * 255), round(blue * 255))


def _derived_palette(digest: bytes) -> Palette:
    """A saturated palette picked by a hash: a dark or light card and an accent of the opposite hue."""
    hue = int.from_bytes(digest[:2], "big") / 65536
    light_card = digest[2] % 2 == 1 or _MUDDY_WHEN_DARK[0] <= hue <= _MUDDY_WHEN_DARK[1]
    primary = _rgb(hue, 0.62 if light_card else 0.30, 0.85)
    secondary = _rgb(hue + 0.06, 0.78 if light_card else 0.45, 0.85)
    accent = _rgb(hue + 0.5, 0.28 if light_card else 0.60, 0.90)
    return Palette(primary, secondary, accent, readable_text(primary), readable_text(accent))


def _article(word: str) -> str:
    """A rough English indefinite article for ``word``."""
    return "an" if word[:1].lower() in "aeio" else "a"


def _free_tagline(name: str, pick: int) -> str:
    """A slogan for a free theme called ``name``, picked by ``pick``; generic when the name is long."""
    tagline = _FREE_TAGLINES[pick % len(_FREE_TAGLINES)].format(name=name)
    return tagline if len(tagline) <= _TAGLINE_LIMIT else _GENERIC_TAGLINES[pick % len(_GENERIC_TAGLINES)]


def _free_theme(text: str) -> Theme:
    """A theme for text that is not in the catalog, the same every time for the same text."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    digest = hashlib.sha256(folded.encode("utf-8")).digest()
    name = _title(text)
    return Theme(
        key="-".join(_WORD.findall(folded)) or f"custom-{digest.hex()[:8]}",
        name=name,
        title_line=_FREE_SERIES[digest[4] % len(_FREE_SERIES)],
        palette=_derived_palette(digest),
        pattern=PATTERNS[digest[3] % len(PATTERNS)],
        costume=f"{_article(text)} {text} outfit",
        accessories=(),
        prompt=f"character themed as {text}, wearing {_article(text)} {text} outfit with matching props",
        in_catalog=False,
        tagline=_free_tagline(name, digest[5]),
    )


def find_theme(text: str) -> Theme:
    """The catalog theme ``text`` names (by key, name or alias), else a free-text theme made from it.

    Matching ignores case, spaces and punctuation, and a plural "s" ("pirates"). ``text`` should
    already be cleaned (``FigureSpec.theme`` is); blank text raises ValueError.
    """
    text = " ".join(text.split())
    if not text:
        raise ValueError("a theme needs some text")
    themes, index = _bundled()
    key = _match_key(text)
    found = index.get(key) or index.get(key.removesuffix("s"))
    return themes[found] if found else _free_theme(text)
