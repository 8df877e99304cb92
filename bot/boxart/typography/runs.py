"""Clusters and runs: text cut into grapheme clusters, each given the first font of the chain that has it,
merged into runs of one font, and the runs of a line put in visual order (a run-level form of the Unicode
bidi reordering)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import emoji

from bot.boxart.typography.fonts import FontDirs, Role, bitmap_px, colour_first, first_covering, font_chain

PLACEHOLDER = "•"  # stands in for a character no available font has; both role fonts have it

_UNQUALIFIED = emoji.STATUS["unqualified"]


@dataclass(frozen=True)
class TextRun:
    """Consecutive clusters drawn with one font."""

    text: str
    font_path: str
    emoji: bool


def prepare(text: str, uppercase: bool) -> str:
    """Single spaces, composed characters (fonts map precomposed letters), optional upper case (which
    leaves emoji untouched)."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    return text.upper() if uppercase else text


def _is_extender(ch: str) -> bool:
    """Characters that belong to the cluster before them (marks, joiners, selectors, skin tones, tags)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or cp in (0x200C, 0x200D)
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
    )


@lru_cache(maxsize=2048)
def _clusters(text: str) -> tuple[tuple[str, bool], ...]:
    """Grapheme clusters of ``text``, each with whether it is an emoji meant to be drawn in colour."""
    ends = {m["match_start"]: m["match_end"] for m in emoji.emoji_list(text)}
    clusters: list[tuple[str, bool]] = []
    i = 0
    while i < len(text):
        end = ends.get(i)
        if end is not None:
            sequence = text[i:end]
            clusters.append((sequence, emoji.EMOJI_DATA.get(sequence, {}).get("status") != _UNQUALIFIED))
            i = end
            continue
        if clusters and _is_extender(text[i]):
            clusters[-1] = (clusters[-1][0] + text[i], clusters[-1][1])
        else:
            clusters.append((text[i], False))
        i += 1
    return tuple(clusters)


def grapheme_clusters(text: str) -> list[str]:
    """User-perceived characters of ``text`` (base + marks, emoji sequences, flags, keycaps)."""
    return [cluster for cluster, _ in _clusters(text)]


def _direction(text: str) -> str | None:
    """Direction ("rtl"/"ltr") of the first strong character; digits alone read left to right."""
    has_digits = False
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
        has_digits = has_digits or kind in ("EN", "AN")
    return "ltr" if has_digits else None


def is_rtl(text: str) -> bool:
    """Whether ``text`` is a right-to-left paragraph (its first strong character is)."""
    return _direction(text) == "rtl"


def split_runs(text: str, role: Role, font_dirs: FontDirs | None = None) -> list[TextRun]:
    """Split ``text`` into runs of one font each, in logical order (``font_dirs`` as in ``font_chain``)."""
    return list(split(text, font_chain(role, font_dirs), is_rtl(text)))


@lru_cache(maxsize=2048)
def split(text: str, chain: tuple[str, ...], rtl: bool) -> tuple[TextRun, ...]:
    """``split_runs`` with the font chain and paragraph direction given."""
    cells: list[tuple[str, str | None]] = [
        (cluster, None) if cluster.isspace() else _resolve(cluster, colour, chain)
        for cluster, colour in _clusters(text)
    ]
    for i, (cluster, path) in enumerate(cells):
        if path is None:
            cells[i] = (cluster, _space_font(cluster, i, cells, chain, rtl))
    runs: list[TextRun] = []
    for cluster, path in cells:
        assert path is not None
        if runs and runs[-1].font_path == path:
            runs[-1] = TextRun(runs[-1].text + cluster, path, runs[-1].emoji)
        else:
            runs.append(TextRun(cluster, path, bitmap_px(path) is not None))
    return tuple(runs)


def _resolve(cluster: str, colour: bool, chain: tuple[str, ...]) -> tuple[str, str]:
    """The cluster (or, when no font has it, its base character or the placeholder) and its font."""
    fonts = colour_first(chain) if colour else chain
    for candidate in (cluster, cluster[0]):
        path = first_covering(candidate, fonts)
        if path is not None:
            return candidate, path
    return PLACEHOLDER, chain[0]


def _space_font(
    space: str, i: int, cells: list[tuple[str, str | None]], chain: tuple[str, ...], rtl: bool
) -> str:
    """Whitespace joins the run before it, or the one after it when the run before goes against the
    paragraph direction (so the space stays between the two directions once reordered); never a colour
    emoji font, whose spaces are as wide as an emoji."""
    before = next((cells[j] for j in range(i - 1, -1, -1) if not cells[j][0].isspace()), None)
    after = next((cells[j] for j in range(i + 1, len(cells)) if not cells[j][0].isspace()), None)
    against = before is not None and _direction(before[0]) not in (None, "rtl" if rtl else "ltr")
    neighbours = (after, before) if before is None or against else (before, after)
    fonts = [cell[1] for cell in neighbours if cell is not None and cell[1] is not None]
    return first_covering(space, (p for p in [*fonts, *chain] if bitmap_px(p) is None)) or chain[0]


def run_directions(runs: Sequence[TextRun], rtl: bool) -> list[str]:
    """Each run's direction; neutral runs (emoji, punctuation) take their neighbours' shared direction,
    else the paragraph's."""
    strong = [_direction(run.text) for run in runs]
    paragraph = "rtl" if rtl else "ltr"
    resolved = []
    for i, direction in enumerate(strong):
        if direction is None:
            before = next((d for d in reversed(strong[:i]) if d), None)
            after = next((d for d in strong[i + 1 :] if d), None)
            direction = before if before is not None and before == after else paragraph
        resolved.append(direction)
    return resolved


def visual_order(directions: Sequence[str], rtl: bool) -> list[int]:
    """Run indexes left to right: embedding levels per run, then reversal of every sequence at or above
    each level from the highest down to 1 (Unicode bidi rule L2)."""
    levels = [1 if d == "rtl" else (2 if rtl else 0) for d in directions]
    order = list(range(len(levels)))
    for level in range(max(levels, default=0), 0, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] < level:
                i += 1
                continue
            j = i
            while j < len(order) and levels[order[j]] >= level:
                j += 1
            order[i:j] = reversed(order[i:j])
            i = j
    return order


def clear_caches() -> None:
    """Forget cut clusters and runs."""
    for cached in (_clusters, split):
        cached.cache_clear()
