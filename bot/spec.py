"""The figure spec (name, theme, costume, accessories, tagline, box style, variant) and how chat text
becomes one.

Captions take these forms, optionally after a bot command or mention
(``/figure``, ``/figure@figure_bot``, ``@figure_bot``, ``<@123>``)::

    Alex | astronaut | helmet, cat | To infinity       positional: name | theme | accessories | tagline
    name=Alex theme=astronaut acc="helmet, cat"        options: key=value (or key: value for known keys)
    Alex | astronaut style=window                      both: positional text first, then options
    Alex                                               plain text: the name

Option values may be quoted with straight or typographic quotes (as phones type them), single
or double, or with guillemets. A quoted value ends at the last closing quote before the next
option, and a closing quote must be followed by a space, ``,``, ``;`` or the end, so apostrophes
and quotes inside a value ("Don't stop", "Say "cheese" now") are safe. An unquoted value runs
until the next option, so ``name=Alex Smith theme=pirate`` names "Alex Smith". Keys ignore case
and have aliases (``acc``, ``items``, ``outfit``, ``box``, ``slogan``...); an unknown key or a
key given twice is an error. An empty option (``costume=``) resets that field to its default; an
empty ``|`` part leaves it as it was.

Parsing is linear in the length of the caption: each value is found with a few forward scans,
and as every option may appear only once, at most six values are read before the caption is done
or rejected.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields

from bot.errors import UserFacingError
from bot.themes import find_theme

BOX_STYLES = ("blister", "window")
MAX_ACCESSORIES = 4
# Longest value of each field, in perceived characters after cleaning (see ``text_length``).
LIMITS = {"name": 40, "theme": 40, "costume": 80, "accessory": 24, "tagline": 60}
DEFAULT_NAME = "Mystery Hero"
DEFAULT_THEME = "superhero"
DEFAULT_STYLE = "blister"


class SpecError(UserFacingError):
    """A caption or option that cannot become a figure spec; the message tells the user why."""


@dataclass(frozen=True)
class FigureSpec:
    """What to put on the box. Build it with ``make_spec`` or ``parse_caption`` to get clean, checked text."""

    name: str = DEFAULT_NAME
    theme: str = DEFAULT_THEME  # a catalog key, or the user's own theme text
    costume: str = ""  # "" = the theme's default costume
    accessories: tuple[str, ...] = ()  # () = the theme's default accessories
    tagline: str = ""
    style: str = DEFAULT_STYLE
    variant: int = 1  # which take of the same figure: 1 is a fresh one, each re-roll the next number


# ---------------------------------------------------------------------------------------------
# Cleaning text

ZWJ = "\u200d"
ZWNJ = "\u200c"
MAX_MARKS = 6  # combining marks kept on one character; real scripts stack fewer, zalgo text is cut here
MAX_CLUSTER = 16  # code points one perceived character may hold before it counts as more than one

_REMOVED = frozenset({"Cc", "Cf", "Co", "Cs"})
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")  # Hangul fillers: letters that draw nothing
_TAGS = ("\U000e0000", "\U000e007f")
_TAG_RUN = re.compile("[\U000e0000-\U000e007f]+")
_FLAG_TAGS = re.compile("[\U000e0020-\U000e007e]+\U000e007f")
_BLACK_FLAG = "\U0001f3f4"
_SKIN_TONES = ("\U0001f3fb", "\U0001f3ff")
_REGIONAL_INDICATORS = ("\U0001f1e6", "\U0001f1ff")
_EMOJI_BLOCKS = ("\U0001f000", "\U0001faff")


def _is_pictograph(char: str) -> bool:
    """An emoji-like symbol, including skin tones and emoji newer than this Python's Unicode data."""
    category = unicodedata.category(char)
    return (
        category == "So"
        or _SKIN_TONES[0] <= char <= _SKIN_TONES[1]
        or (category == "Cn" and _EMOJI_BLOCKS[0] <= char <= _EMOJI_BLOCKS[1])
    )


def _is_script_letter(char: str) -> bool:
    """A letter outside ASCII (the scripts that use joiners: Arabic, Persian, Indic…)."""
    return char > "\x7f" and unicodedata.category(char).startswith("L")


def _keeps_joiner(joiner: str, before: str, after: str) -> bool:
    """Whether a ZWJ/ZWNJ between ``before`` and ``after`` is part of real text."""
    if not before or not after:
        return False
    if _is_script_letter(before) and _is_script_letter(after):
        return True
    return joiner == ZWJ and _is_pictograph(before) and _is_pictograph(after)


def _keep_flag_tags(match: re.Match[str]) -> str:
    """A run of tag characters, kept only as the tail of a subdivision flag such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿."""
    after_flag = match.start() > 0 and match.string[match.start() - 1] == _BLACK_FLAG
    return match[0] if after_flag and _FLAG_TAGS.fullmatch(match[0]) else ""


def _drop_invisible(text: str) -> str:
    """``text`` without control, format and private-use characters, joiners out of place, or zalgo."""
    if text.isascii() and text.isprintable():
        return text
    kept: list[str] = []
    base = ""  # the last kept character that is not a mark or joiner
    marks = 0  # marks kept on ``base`` so far
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if char in (ZWJ, ZWNJ):
            if not _keeps_joiner(char, base, text[index + 1 : index + 2]):
                continue
        elif category[0] == "M":
            if marks >= MAX_MARKS:
                continue
            marks += 1
        elif _TAGS[0] <= char <= _TAGS[1]:
            pass  # only flag tags are left at this point
        elif (category in _REMOVED and not char.isspace()) or char in _FILLERS:
            continue
        else:
            base, marks = char, 0
        kept.append(char)
    return "".join(kept)


def _tidy(text: str) -> str:
    """``text`` without invisible characters, whitespace runs collapsed to one space, stripped, NFC."""
    text = _drop_invisible(_TAG_RUN.sub(_keep_flag_tags, text))
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _extends_cluster(char: str) -> bool:
    """Whether ``char`` draws as part of the character before it."""
    return (
        unicodedata.category(char)[0] == "M"
        or char in (ZWJ, ZWNJ)
        or _SKIN_TONES[0] <= char <= _SKIN_TONES[1]
        or _TAGS[0] <= char <= _TAGS[1]
    )


def text_length(text: str) -> int:
    """How many characters a reader sees in ``text``.

    Combining marks, variation selectors, skin tones, joiners and flag tags belong to the character
    before them; an emoji after a ZWJ joins the sequence (👩‍🚀 is one); two regional indicators make
    one flag. A cluster longer than ``MAX_CLUSTER`` code points counts once per started
    ``MAX_CLUSTER``, so endless joined sequences still hit the limits.
    """
    if text.isascii():
        return len(text)
    total = cluster = 0
    after_zwj = lone_indicator = False
    for char in text:
        indicator = _REGIONAL_INDICATORS[0] <= char <= _REGIONAL_INDICATORS[1]
        if _extends_cluster(char) or (after_zwj and _is_pictograph(char)) or (indicator and lone_indicator):
            cluster += 1
        else:
            total += -(-cluster // MAX_CLUSTER)
            cluster = 1
        lone_indicator = indicator and not lone_indicator
        after_zwj = char == ZWJ
    return total + -(-cluster // MAX_CLUSTER)


def clean_text(text: str, field: str, limit: int) -> str:
    """``text`` made safe to print and checked against ``limit`` perceived characters.

    NFC; control, format, private-use and surrogate characters removed, except the joiners,
    variation selectors and tags that emoji, flags and scripts such as Persian need; combining marks
    beyond ``MAX_MARKS`` per character dropped; whitespace collapsed to single spaces and stripped.
    Raises SpecError naming ``field`` when the result is longer than ``limit`` (see ``text_length``).
    """
    cleaned = _tidy(text)
    length = text_length(cleaned)
    if length > limit:
        raise SpecError(f"That {field} is {length} characters long; the limit is {limit}.")
    return cleaned


# ---------------------------------------------------------------------------------------------
# Building a spec

_FIELDS = tuple(field.name for field in fields(FigureSpec))
_TEXT_FIELDS = tuple(field for field in _FIELDS if field != "variant")  # what user text may set
# Commas and semicolons, also fullwidth, ideographic and Arabic ones.
_ITEM_SEPARATORS = re.compile("[,;\uff0c\uff1b\u3001\u060c]")
_STYLE_WORDS = {"blister": "blister", "card": "blister", "window": "window", "box": "window"}
_SHOWN = 24  # longest piece of user text quoted back in an error message


def _shown(text: str) -> str:
    """User text short enough to quote in a message."""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _theme(text: str | None) -> str:
    """The catalog key ``text`` names, else the cleaned text itself; blank means the default."""
    cleaned = clean_text(text or "", "theme", LIMITS["theme"])
    if not cleaned:
        return DEFAULT_THEME
    theme = find_theme(cleaned)
    return theme.key if theme.in_catalog else cleaned


def _accessories(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Up to ``MAX_ACCESSORIES`` cleaned, distinct accessories from a list or a comma-separated string."""
    items = _ITEM_SEPARATORS.split(value) if isinstance(value, str) else (value or ())
    chosen: dict[str, str] = {}
    for item in items:
        cleaned = clean_text(item, "accessory", LIMITS["accessory"])
        if cleaned:
            chosen.setdefault(cleaned.casefold(), cleaned)
    if len(chosen) > MAX_ACCESSORIES:
        raise SpecError(f"You listed {len(chosen)} accessories; the limit is {MAX_ACCESSORIES}.")
    return tuple(chosen.values())


def _style(text: str | None) -> str:
    """A box style from ``BOX_STYLES``, also accepting "card" (blister) and "box" (window)."""
    cleaned = _tidy(text or "")
    if not cleaned:
        return DEFAULT_STYLE
    style = _STYLE_WORDS.get(cleaned.casefold())
    if style is None:
        raise SpecError(f"I don't know the box style '{_shown(cleaned)}'. Choose {' or '.join(BOX_STYLES)}.")
    return style


def _variant(value: int) -> int:
    """A variant: a whole number from 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"The variant must be a whole number from 1, not {_shown(str(value))}.")
    return value


def make_spec(
    *,
    name: str | None = None,
    theme: str | None = None,
    costume: str | None = None,
    accessories: str | Sequence[str] | None = None,
    tagline: str | None = None,
    style: str | None = None,
    variant: int = 1,
) -> FigureSpec:
    """A FigureSpec with every field cleaned and checked; missing or blank fields get their defaults."""
    return FigureSpec(
        name=clean_text(name or "", "name", LIMITS["name"]) or DEFAULT_NAME,
        theme=_theme(theme),
        costume=clean_text(costume or "", "costume", LIMITS["costume"]),
        accessories=_accessories(accessories),
        tagline=clean_text(tagline or "", "tagline", LIMITS["tagline"]),
        style=_style(style),
        variant=_variant(variant),
    )


# ---------------------------------------------------------------------------------------------
# Reading captions

_POSITIONAL = ("name", "theme", "accessories", "tagline")
_KEYS = {
    **{field: field for field in _TEXT_FIELDS},
    "accessory": "accessories",
    "acc": "accessories",
    "items": "accessories",
    "outfit": "costume",
    "box": "style",
    "tag": "tagline",
    "slogan": "tagline",
}
_KEY_NAMES = "name, theme, costume, accessories, tagline or style"
_POSITIONAL_HELP = "name | theme | accessories | tagline"
_LEAD = re.compile(r" ?(?:/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?|@[A-Za-z0-9_]+|<@!?[0-9]+>)(?=[ |\uff5c]|\Z)")
_OPTION = re.compile(r"(?<![^\s,;])([^\W\d_][\w-]*)([=:])")
_PIPE = re.compile("[|\uff5c]")  # also the fullwidth bar of CJK keyboards
_DOUBLE_QUOTES = '"\u201c\u201d\u201e\u00ab\u00bb'  # straight, curly, low-9 and guillemets
_SINGLE_QUOTES = "'\u2018\u2019\u201a\u2039\u203a"  # the same, single
_CLOSERS = {
    opener: re.compile(f"[{re.escape(family)}](?=[\\s,;]|\\Z)")
    for family in (_DOUBLE_QUOTES, _SINGLE_QUOTES)
    for opener in family
}


def _strip_lead(text: str) -> str:
    """``text`` without the bot commands and mentions it starts with."""
    position = 0
    while match := _LEAD.match(text, position):
        position = match.end()
    return text[position:].lstrip()


def _next_option(text: str, position: int) -> re.Match[str] | None:
    """The next ``key=`` (any word) or ``key:`` (known keys only) at or after ``position``."""
    while match := _OPTION.search(text, position):
        if match[2] == "=" or match[1].casefold() in _KEYS:
            return match
        position = match.end()
    return None


def _trim(text: str) -> str:
    """``text`` without the spaces and separators that end an unquoted value."""
    return text.rstrip().rstrip(",;").rstrip()


def _end(option: re.Match[str] | None, text: str) -> int:
    """Where the value before ``option`` ends: at the option, or at the end of ``text``."""
    return option.start() if option else len(text)


def _last_close(closer: re.Pattern[str], text: str, first: re.Match[str], stop: int) -> re.Match[str]:
    """The last closing quote from ``first`` up to ``stop``, so quotes inside a value are kept."""
    last = first
    while later := closer.search(text, last.end(), stop):
        last = later
    return last


def _read_value(text: str, start: int) -> tuple[str, re.Match[str] | None]:
    """The value that starts at ``start`` and the option after it.

    A quoted value ends at the last closing quote before the next option; the quotes are dropped
    and any text between the closing quote and the next option is kept. An opening quote that is
    never closed is dropped and the value read as unquoted.
    """
    while text[start : start + 1].isspace():
        start += 1
    closer = _CLOSERS.get(text[start : start + 1])
    first = closer.search(text, start + 1) if closer else None
    if closer is None or first is None:
        if closer is not None:
            start += 1  # an opening quote that is never closed
        following = _next_option(text, start)
        return _trim(text[start : _end(following, text)]), following
    following = _next_option(text, first.end())
    stop = _end(following, text)
    close = _last_close(closer, text, first, stop)
    return text[start + 1 : close.start()] + _trim(text[close.end() : stop]), following


def _positional_fields(text: str) -> dict[str, str]:
    """The fields of ``name | theme | accessories | tagline``; blank parts are left out."""
    parts = _PIPE.split(text, maxsplit=len(_POSITIONAL))
    if len(parts) > len(_POSITIONAL):
        raise SpecError(
            f"That caption has more than {len(_POSITIONAL)} parts separated by '|'. "
            f"Write it as: {_POSITIONAL_HELP}."
        )
    trimmed = (_trim(part) for part in parts)
    given = {field: part for field, part in zip(_POSITIONAL, trimmed, strict=False) if part.strip()}
    if len(parts) == 1 and "name" in given:
        try:
            clean_text(given["name"], "name", LIMITS["name"])
        except SpecError as error:
            raise SpecError(f"{error} To set more than the name, write: {_POSITIONAL_HELP}.") from error
    return given


def _option_field(key: str) -> str:
    """The spec field an option key (or alias) sets."""
    field = _KEYS.get(key.casefold())
    if field is None:
        raise SpecError(f"I don't know the option '{_shown(key)}'. Use {_KEY_NAMES}.")
    return field


def _caption_fields(text: str) -> dict[str, str]:
    """The raw field values a tidied caption gives, by field name."""
    option = _next_option(text, 0)
    given = _positional_fields(_trim(text[: option.start()] if option else text))
    while option:
        field = _option_field(option[1])
        if field in given:
            raise SpecError(f"You gave the {field} twice; give each option only once.")
        given[field], option = _read_value(text, option.end())
    return given


def parse_caption(text: str | None, base: FigureSpec | None = None) -> FigureSpec:
    """The spec a chat caption asks for; fields the caption leaves out keep ``base``'s values, and the
    variant is always ``base``'s (it is not user text: the engine numbers re-rolls).

    See the module docstring for the caption forms. Raises SpecError with a message for the user.
    """
    base = FigureSpec() if base is None else base
    given = _caption_fields(_strip_lead(_tidy(text or "")))
    if not given:
        return base
    values = {field: getattr(base, field) for field in _FIELDS} | given
    return make_spec(**values)
