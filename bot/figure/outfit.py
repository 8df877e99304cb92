"""What the toy wears: each theme's costume as data, and the user's costume words mapped onto it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from bot.boxart.shapes import shade
from bot.themes import Theme

RGB = tuple[int, int, int]

TOPS = frozenset({"suit", "shirt", "jacket", "coat", "robe", "armour", "hoodie", "tunic", "bodice"})
LEGS = frozenset({"trousers", "robe", "tail"})
HEADGEAR = frozenset(
    {
        "none", "space-helmet", "tricorn", "wizard-hat", "toque", "fedora", "cowboy-hat", "crown",
        "knight-helmet", "cap", "fire-helmet", "beanie", "hood", "headphones", "headset", "mohawk",
        "bandana", "beret", "top-hat", "tiara",
    }
)  # fmt: skip
EMBLEMS = frozenset(
    {
        "none",
        "star",
        "bolt",
        "patch",
        "heart",
        "skull",
        "shield",
        "badge",
        "note",
        "atom",
        "flame",
        "shell",
        "moon",
    }
)
EXTRAS = frozenset(
    {
        "tie", "belt", "buttons", "stripes", "scarf", "sash", "apron", "lanyard", "goggles", "shades",
        "sparkles", "studs", "pockets",
    }
)  # fmt: skip
PARTS = ("top", "legs", "trim", "boots", "gloves", "cape", "headgear", "emblem")
_WORD = re.compile(r"[^\W\d_]+(?:'s)?", re.UNICODE)


@dataclass(frozen=True)
class Outfit:
    """The costume of one figure: garment kinds, their colours, headgear, chest emblem and small extras.

    A colour of ``None`` means that part is not worn (bare hands, no cape).
    """

    top: str
    top_colour: RGB
    legs: str
    legs_colour: RGB
    trim_colour: RGB
    boots_colour: RGB
    gloves_colour: RGB | None = None
    cape_colour: RGB | None = None
    headgear: str = "none"
    headgear_colour: RGB = (40, 40, 40)
    emblem: str = "none"
    emblem_colour: RGB = (255, 195, 0)
    extras: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Dressing:
    """A theme's outfit after the user's costume words, and the words that could not be drawn."""

    outfit: Outfit
    undrawn: tuple[str, ...]


def _hex(value: str) -> RGB:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def _outfit(table: dict[str, Any], where: str) -> Outfit:
    """One ``[themes.ID]`` table as an Outfit; raises ValueError naming ``where`` on a bad field."""
    known = {field.name for field in fields(Outfit)}
    if unknown := set(table) - known:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}")
    values: dict[str, Any] = {
        key: _hex(value) if key.endswith("_colour") else value for key, value in table.items()
    }
    values["extras"] = frozenset(values.get("extras", ()))
    outfit = Outfit(**values)
    _check(outfit, where)
    return outfit


def _check(outfit: Outfit, where: str) -> None:
    for value, allowed, name in (
        (outfit.top, TOPS, "top"),
        (outfit.legs, LEGS, "legs"),
        (outfit.headgear, HEADGEAR, "headgear"),
        (outfit.emblem, EMBLEMS, "emblem"),
    ):
        if value not in allowed:
            raise ValueError(f"{where}: {name} {value!r} is not one of {sorted(allowed)}")
    if bad := outfit.extras - EXTRAS:
        raise ValueError(f"{where}: unknown extras {sorted(bad)}")


@dataclass(frozen=True)
class _Vocabulary:
    themes: dict[str, Outfit]
    words: dict[str, dict[str, Any]]
    colours: dict[str, RGB]
    fillers: frozenset[str]


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    data = tomllib.loads(resources.files("bot").joinpath("data/outfits.toml").read_text("utf-8"))
    themes = {key: _outfit(table, f"themes.{key}") for key, table in data["themes"].items()}
    colours = {word: _hex(value) for word, value in data["colours"].items()}
    sample = next(iter(themes.values()))
    for word, entry in data["words"].items():
        if entry.get("part") not in (*PARTS, None):
            raise ValueError(f"words.{word}: part {entry['part']!r} is not one of {PARTS}")
        _check(_apply(sample, entry, None), f"words.{word}")
    return _Vocabulary(themes, data["words"], colours, frozenset(data["fillers"]["words"]))


def theme_outfit(theme: Theme) -> Outfit:
    """The costume of ``theme``: its catalog outfit, or one made from a free theme's colours and words."""
    vocabulary = _vocabulary()
    if theme.key in vocabulary.themes:
        return vocabulary.themes[theme.key]
    palette = theme.palette
    base = Outfit(
        top="jacket",
        top_colour=palette.accent,
        legs="trousers",
        legs_colour=shade(palette.secondary, -0.55),
        trim_colour=palette.secondary,
        boots_colour=(40, 40, 44),
        emblem="star",
        emblem_colour=palette.secondary,
        extras=frozenset({"belt"}),
    )
    return dress(base, theme.name).outfit


def _words(text: str) -> list[str]:
    return [word.removesuffix("'s") for word in _WORD.findall(text.lower().replace("-", " "))]


def _apply(outfit: Outfit, entry: dict[str, Any], colour: RGB | None) -> Outfit:
    """``outfit`` with one vocabulary ``entry`` worn, painted ``colour`` (or the entry's own colour)."""
    changes: dict[str, Any] = {
        key: entry[key] for key in ("top", "legs", "headgear", "emblem") if key in entry
    }
    if "extras" in entry:
        changes["extras"] = outfit.extras | frozenset(entry["extras"])
    paint = colour or (_hex(entry["colour"]) if "colour" in entry else None)
    part = entry.get("part")
    if paint is not None and part is not None:
        changes[f"{part}_colour"] = paint
    elif part in ("gloves", "cape") and getattr(outfit, f"{part}_colour") is None:
        changes[f"{part}_colour"] = outfit.trim_colour
    return replace(outfit, **changes)


def dress(outfit: Outfit, costume: str) -> Dressing:
    """``outfit`` changed by the words of ``costume`` ("red cape and golden armour").

    A colour word paints the next garment named; a colour with no garment after it paints the top.
    Words the vocabulary cannot draw are returned, in order, once each.
    """
    vocabulary = _vocabulary()
    words = _words(costume)
    undrawn: list[str] = []
    colour: RGB | None = None
    index = 0
    while index < len(words):
        pair = " ".join(words[index : index + 2])
        if pair in vocabulary.words:
            outfit, colour = _apply(outfit, vocabulary.words[pair], colour), None
            index += 2
            continue
        word = words[index]
        index += 1
        if word in vocabulary.colours:
            colour = vocabulary.colours[word]
        elif word in vocabulary.words:
            outfit, colour = _apply(outfit, vocabulary.words[word], colour), None
        elif word.endswith("s") and word[:-1] in vocabulary.words:
            outfit, colour = _apply(outfit, vocabulary.words[word[:-1]], colour), None
        elif word not in vocabulary.fillers and word not in undrawn:
            undrawn.append(word)
    if colour is not None:
        outfit = replace(outfit, top_colour=colour)
    return Dressing(outfit, tuple(undrawn))


def outfit_for(theme: Theme, costume: str) -> Dressing:
    """What the figure of ``theme`` wears with the user's ``costume`` text ("" = the theme's own)."""
    return dress(theme_outfit(theme), costume)
