"""Accessory icons for the box art: a colour emoji for a label, or a drawn badge with its initials."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import emoji
from PIL import Image, ImageDraw

from bot.boxart.typography import composite, draw_emoji, draw_fitted_text, grapheme_clusters

Box = tuple[int, int, int, int]

# Common toy accessories whose emoji names differ from the everyday word (or would pick a worse emoji).
_OVERRIDES: dict[str, str] = {
    "briefcase": "💼",
    "cape": "🦸",
    "cat": "🐱",
    "chef hat": "🧑‍🍳",
    "coffee": "☕",
    "coffee cup": "☕",
    "coffee mug": "☕",
    "compass": "🧭",
    "controller": "🎮",
    "cowboy hat": "🤠",
    "dinosaur": "🦖",
    "dog": "🐶",
    "frying pan": "🍳",
    "game controller": "🎮",
    "gamepad": "🎮",
    "guitar": "🎸",
    "headphones": "🎧",
    "helmet": "🪖",
    "kitten": "🐱",
    "lasso": "🤠",
    "laptop": "💻",
    "magnifier": "🔍",
    "magnifying glass": "🔍",
    "map": "🗺️",
    "microphone": "🎤",
    "microscope": "🔬",
    "mug": "☕",
    "phone": "📱",
    "pipe": "🕵️",  # no pipe emoji; the detective carries one
    "potion": "🧪",
    "puppy": "🐶",
    "rocket": "🚀",
    "shield": "🛡️",
    "skateboard": "🛹",
    "smartphone": "📱",
    "spell book": "📖",
    "spellbook": "📖",
    "sword": "🗡️",
    "test tube": "🧪",
    "treasure map": "🗺️",
    "wand": "🪄",
}
_ARTICLES = frozenset({"a", "an", "the"})
_FULLY_QUALIFIED = emoji.STATUS["fully_qualified"]
_UNQUALIFIED = emoji.STATUS["unqualified"]
_BADGE_RADIUS = 0.22  # corner radius relative to the badge side
_BADGE_PADDING = 0.16  # text inset relative to the badge side
_SUPERSAMPLE = 4  # the badge shape is drawn larger and scaled down for smooth corners


def _normalise(text: str) -> str:
    """Lower case, no possessive 's, underscores/hyphens/colons as spaces, other punctuation dropped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"['\u2019]s\b", "", text)  # possessive: "chef's hat" → "chef hat"
    text = re.sub(r"[\s_:-]+", " ", text)
    return " ".join(re.sub(r"[^\w ]", "", text).split())


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    """Emoji names and aliases → fully-qualified emoji; names before aliases, then shorter sequences."""
    ranked: dict[str, tuple[tuple[int, int], str]] = {}
    for char, data in emoji.EMOJI_DATA.items():
        if data["status"] != _FULLY_QUALIFIED:
            continue
        length = len(char.replace("\ufe0f", ""))
        for rank, name in enumerate([data["en"], *data.get("alias", [])]):
            key, priority = _normalise(name), (min(rank, 1), length)
            if key not in ranked or priority < ranked[key][0]:
                ranked[key] = (priority, char)
    return {key: char for key, (_, char) in ranked.items()}


def _singulars(word: str) -> list[str]:
    """Plausible singular forms of an English plural (longest-suffix rules first)."""
    rules = (("ies", "y"), ("ves", "f"), ("ves", "fe"), ("es", ""), ("s", ""))
    return [word[: -len(end)] + new for end, new in rules if word.endswith(end) and len(word) > len(end) + 1]


def _candidates(label: str) -> Iterator[str]:
    """The label, its singular, then the same for ever shorter tails ("red electric guitar" → "guitar")."""
    words = _normalise(label).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    for start in range(len(words)):
        tail = words[start:]
        yield " ".join(tail)
        for singular in _singulars(tail[-1]):
            yield " ".join([*tail[:-1], singular])


def _qualified(char: str) -> str:
    """Emoji presentation of a text-style emoji (``🗡`` → ``🗡️``) where one exists."""
    status = emoji.EMOJI_DATA.get(char, {}).get("status")
    with_selector = char + "\ufe0f"
    return with_selector if status == _UNQUALIFIED and with_selector in emoji.EMOJI_DATA else char


def accessory_emoji(label: str) -> str | None:
    """An emoji for an accessory label: the emoji in the label itself, else a curated or emoji-name match
    (case, separators and simple plurals ignored); None when nothing matches."""
    found = emoji.emoji_list(label)
    if found:
        return _qualified(found[0]["emoji"])
    index = _name_index()
    for candidate in _candidates(label):
        match = _OVERRIDES.get(candidate) or index.get(candidate)
        if match:
            return match
    return None


def draw_icon(
    img: Image.Image, box: Box, label: str, emoji_char: str | None, *, colour: tuple[int, int, int]
) -> bool:
    """Draw ``emoji_char`` in colour, centred and fitted to ``box`` (True), or, without it or a colour
    emoji font, a rounded badge in ``colour`` with the label's initials (False)."""
    if emoji_char and draw_emoji(img, box, emoji_char):
        return True
    _draw_badge(img, box, label, colour)
    return False


def _draw_badge(img: Image.Image, box: Box, label: str, colour: tuple[int, int, int]) -> None:
    """A smooth rounded square in ``colour``, centred in ``box``, with the label's initials on it."""
    side = min(box[2] - box[0], box[3] - box[1])
    if side <= 0:
        return
    left = box[0] + (box[2] - box[0] - side) // 2
    top = box[1] + (box[3] - box[1] - side) // 2
    big = side * _SUPERSAMPLE
    mask = Image.new("L", (big, big))
    radius = round(big * _BADGE_RADIUS)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, big - 1, big - 1), radius=radius, fill=255)
    badge = Image.new("RGBA", (side, side), (*colour, 255))
    badge.putalpha(mask.resize((side, side), Image.Resampling.LANCZOS))
    composite(img, badge, (left, top))
    initials = _initials(label)
    if initials:
        pad = round(side * _BADGE_PADDING)
        inner = (left + pad, top + pad, left + side - pad, top + side - pad)
        size = max(1, side - 2 * pad)
        draw_fitted_text(
            img,
            inner,
            initials,
            role="display",
            fill=_ink_on(colour),
            max_size=size,
            min_size=min(10, size),
            max_lines=1,
            uppercase=True,
        )


def _initials(label: str) -> str:
    """First letter of the label; of its first two words when the script has letter case ("MW")."""
    letters = [c for word in emoji.replace_emoji(label, "").split() if (c := _first_letter(word))]
    cased = [c for c in letters[:2] if c.upper() != c.lower()]
    return "".join(cased) if len(cased) == 2 else "".join(letters[:1])


def _first_letter(word: str) -> str | None:
    return next((c for c in grapheme_clusters(word) if c[0].isalnum()), None)


def _ink_on(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """Dark or white text, whichever reads better on ``colour``."""
    red, green, blue = colour
    return (25, 25, 25) if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else (255, 255, 255)
