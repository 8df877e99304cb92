"""Accessory icons for the box art: a colour emoji for a label, or a drawn badge with its initials."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache

import emoji
from PIL import Image, ImageDraw

from bot.boxart.typography import composite, draw_emoji, draw_fitted_text, grapheme_clusters
from bot.themes import Accessory, Theme, catalog, readable_text

Box = tuple[int, int, int, int]

# Common words whose emoji names differ from the everyday word, or would pick a worse emoji ("bow" is a
# person bowing by name, "ball" a rice ball by the end of a name).
_OVERRIDES: dict[str, str] = {
    "bag": "👜",
    "ball": "⚽",
    "bow": "🏹",
    "box": "📦",
    "briefcase": "💼",
    "brush": "🖌️",
    "burger": "🍔",
    "cape": "🦸",
    "cat": "🐱",
    "chain": "⛓️",
    "chef hat": "🧑‍🍳",
    "coffee": "☕",
    "coffee cup": "☕",
    "coffee mug": "☕",
    "compass": "🧭",
    "controller": "🎮",
    "cowboy hat": "🤠",
    "cup": "☕",
    "diamond": "💎",
    "dice": "🎲",
    "dinosaur": "🦖",
    "dog": "🐶",
    "doll": "🪆",
    "donut": "🍩",
    "fishing rod": "🎣",
    "flag": "🚩",
    "flower": "🌸",
    "fork": "🍴",
    "frying pan": "🍳",
    "game controller": "🎮",
    "gamepad": "🎮",
    "guitar": "🎸",
    "headphones": "🎧",
    "helmet": "🪖",  # a plain helmet; the astronaut theme's own label gives its astronaut
    "kitten": "🐱",
    "lasso": "🪢",
    "laptop": "💻",
    "letter": "✉️",
    "magnifier": "🔍",
    "magnifying glass": "🔍",
    "map": "🗺️",
    "microphone": "🎤",
    "microscope": "🔬",
    "mitten": "🧤",
    "moon": "🌙",
    "mug": "☕",
    "necklace": "📿",
    "phone": "📱",
    "piano": "🎹",
    "pipe": "🕵️",  # no pipe emoji; the detective carries one
    "plane": "✈️",
    "potion": "🧪",
    "puppy": "🐶",
    "racket": "🎾",
    "rocket": "🚀",
    "rope": "🪢",
    "shield": "🛡️",
    "skateboard": "🛹",
    "smartphone": "📱",
    "snowboard": "🏂",
    "sock": "🧦",
    "spell book": "📖",
    "spellbook": "📖",
    "surfboard": "🏄",
    "sword": "🗡️",
    "test tube": "🧪",
    "tie": "👔",
    "torch": "🔦",
    "treasure map": "🗺️",
    "tree": "🌳",
    "wand": "🪄",
}
_ARTICLES = frozenset({"a", "an", "the"})
_FULLY_QUALIFIED = emoji.STATUS["fully_qualified"]
_UNQUALIFIED = emoji.STATUS["unqualified"]
_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff]")
_BADGE_RADIUS = 0.22  # corner radius relative to the badge side
_BADGE_PADDING = 0.16  # text inset relative to the badge side
_SUPERSAMPLE = 4  # the badge shape is drawn larger and scaled down for smooth corners


def _normalise(text: str) -> str:
    """Lower case, no possessive 's, underscores/hyphens/colons as spaces, other punctuation dropped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"['\u2019]s\b", "", text)  # possessive: "chef's hat" → "chef hat"
    text = re.sub(r"[\s_:-]+", " ", text)
    return " ".join(re.sub(r"[^\w ]", "", text).split())


Index = dict[str, str]


@lru_cache(maxsize=1)
def _name_indexes() -> tuple[Index, Index, Index]:
    """Fully-qualified emoji by their whole names and aliases, by the ends of them ("ball": soccer ball)
    and by their starts ("teddy": teddy bear); names before aliases, then fewer words, then shorter."""
    ranked: tuple[dict[str, tuple[tuple[int, ...], str]], ...] = ({}, {}, {})
    for char, data in emoji.EMOJI_DATA.items():
        if data["status"] != _FULLY_QUALIFIED:
            continue
        for rank, name in enumerate([data["en"], *data.get("alias", [])]):
            words = _normalise(name).split()
            priority = (min(rank, 1), len(words), len(" ".join(words)), len(char.replace("\ufe0f", "")))
            keys = (
                [words],
                [words[cut:] for cut in range(1, len(words))],
                [words[:cut] for cut in range(1, len(words))],
            )
            for table, parts in zip(ranked, keys, strict=True):
                for key in (" ".join(part) for part in parts):
                    if key not in table or priority < table[key][0]:
                        table[key] = (priority, char)
    whole, ends, starts = ({key: char for key, (_, char) in table.items()} for table in ranked)
    return whole, ends, starts


def _labels(accessories: Iterable[Accessory]) -> Index:
    """Icons of accessories by their normalised labels and the labels' singulars; the first one wins."""
    index: Index = {}
    for item in accessories:
        key = _normalise(item.label)
        for form in (key, *_singulars(key)):
            index.setdefault(form, item.icon)
    return index


@lru_cache(maxsize=1)
def _catalog_labels() -> Index:
    """The icons of every accessory in the theme catalog, by label."""
    return _labels(item for theme in catalog().values() for item in theme.accessories)


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


def accessory_emoji(label: str, theme: Theme | None = None) -> str | None:
    """An emoji for an accessory label: the emoji typed in the label itself; else the label (case,
    separators and simple plurals ignored), then its ever shorter tails, looked up in ``theme``'s own
    accessories, the curated common words (``_OVERRIDES``), every catalog accessory and the emoji names
    and aliases; else an emoji whose name ends or starts with it. None when nothing matches."""
    found = emoji.emoji_list(label)
    if found:
        return _qualified(found[0]["emoji"])
    whole, ends, starts = _name_indexes()
    own = _labels(theme.accessories) if theme else {}
    candidates = list(_candidates(label))
    for tables in ((own, _OVERRIDES, _catalog_labels(), whole), (ends,), (starts,)):
        for candidate in candidates:
            match = next((table[candidate] for table in tables if candidate in table), None)
            if match:
                return match
    return None


def emoji_label(label: str) -> str | None:
    """The English name of a label that is a single emoji and nothing else ("🦄" → "Unicorn"), else None."""
    found = emoji.emoji_list(label.strip())
    if len(found) != 1 or not emoji.purely_emoji(label.strip()):
        return None
    data = emoji.EMOJI_DATA.get(_qualified(_SKIN_TONES.sub("", found[0]["emoji"])))
    if data is None:
        return None
    name = data["en"].strip(":").replace("_", " ")
    return name[:1].upper() + name[1:]


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
            fill=readable_text(colour),
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
