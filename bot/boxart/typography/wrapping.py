"""Wrapping and fitting: text broken into lines, the largest size whose block fits a box, and an ellipsis
when even the smallest size does not fit."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot.boxart.typography.layout import Block, layout_line, stack
from bot.boxart.typography.runs import grapheme_clusters

ELLIPSIS = "…"


def _breaks_around(cluster: str) -> bool:
    """Wide characters (Han, kana, emoji) may start or end a line anywhere; Hangul breaks at spaces."""
    cp = ord(cluster[0])
    hangul = 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F
    return not hangul and unicodedata.east_asian_width(cluster[0]) in ("W", "F")


def _break_units(text: str) -> list[tuple[str, str]]:
    """Unbreakable pieces of ``text``, each with the separator before it (" " or "")."""
    units: list[tuple[str, str]] = []
    separator = ""
    previous_wide = False
    for cluster in grapheme_clusters(text):
        if cluster.isspace():
            separator = " "
            continue
        wide = _breaks_around(cluster)
        if units and not separator and not (wide or previous_wide):
            units[-1] = (units[-1][0], units[-1][1] + cluster)
        else:
            units.append((separator, cluster))
        separator = ""
        previous_wide = wide
    return units


def _wrap(text: str, fits: Callable[[str], bool], max_lines: int, break_words: bool = False) -> list[str]:
    """Greedy wrap into at most ``max_lines`` lines, the last one taking whatever is left; with
    ``break_words`` a word too long for a line is broken between clusters."""
    units = _break_units(text)
    if break_words:
        units = [piece for unit in units for piece in ([unit] if fits(unit[1]) else _broken(unit))]
    lines: list[str] = []
    current = ""
    for separator, unit in units:
        joined = f"{current}{separator}{unit}" if current else unit
        if current and len(lines) < max_lines - 1 and not fits(joined):
            lines.append(current)
            current = unit
        else:
            current = joined
    return [*lines, current]


def _broken(unit: tuple[str, str]) -> list[tuple[str, str]]:
    first, *rest = grapheme_clusters(unit[1])
    return [(unit[0], first), *(("", cluster) for cluster in rest)]


def _ellipsize(line: str, fits: Callable[[str], bool]) -> str:
    """``line`` if it fits, else its longest fitting start followed by the ellipsis."""
    if fits(line):
        return line
    clusters = grapheme_clusters(line)

    def cut(count: int) -> str:
        return "".join(clusters[:count]).rstrip() + ELLIPSIS

    low, high = 0, len(clusters) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(cut(middle)):
            low = middle
        else:
            high = middle - 1
    return cut(low)


@dataclass(frozen=True)
class Fit:
    """Prepared text to fit in a ``width`` x ``height`` box with fonts from ``chain``."""

    text: str
    chain: tuple[str, ...]
    width: int
    height: int
    max_lines: int
    stroke_width: int
    max_size: int
    rtl: bool

    def stroke(self, size: int) -> int:
        """Outline width at ``size``: ``stroke_width`` applies at ``max_size`` and scales with the size."""
        if self.stroke_width <= 0:
            return 0
        return max(1, round(self.stroke_width * size / self.max_size))

    def fits_line(self, size: int) -> Callable[[str], bool]:
        stroke = self.stroke(size)
        return lambda line: layout_line(line, self.chain, size, stroke, self.rtl).width <= self.width

    def at(self, size: int) -> Block | None:
        """The wrapped block at ``size`` if it fits the box."""
        lines = _wrap(self.text, self.fits_line(size), self.max_lines)
        block = stack(lines, self.chain, size, self.stroke(size), self.rtl)
        return block if block.width <= self.width and block.height <= self.height else None

    def truncated(self, size: int) -> Block:
        """As many lines as fit the height (at least one), the last one cut with an ellipsis."""
        for count in range(self.max_lines, 1, -1):
            block = self._cut(size, count)
            if block.height <= self.height:
                return block
        return self._cut(size, 1)

    def _cut(self, size: int, count: int) -> Block:
        fits = self.fits_line(size)
        lines = _wrap(self.text, fits, count, break_words=True)
        lines[-1] = _ellipsize(lines[-1], fits)
        return stack(lines, self.chain, size, self.stroke(size), self.rtl)

    def best(self, min_size: int) -> Block:
        """Largest fitting size by binary search, else the truncated text at ``min_size``."""
        low, high, found = min_size, self.max_size, None
        while low <= high:
            middle = (low + high) // 2
            block = self.at(middle)
            if block is None:
                high = middle - 1
            else:
                found, low = block, middle + 1
        return found or self.truncated(min_size)
