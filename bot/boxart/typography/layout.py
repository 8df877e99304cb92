"""Layout: runs measured and placed on a line at a size, lines stacked into a block.

libraqm (through Pillow) shapes each run: Arabic joining, Indic conjuncts, emoji ZWJ sequences and flags.
Without it Pillow's basic layout is used: everything is still drawn with fonts that have the characters,
but unshaped (Arabic in isolated letter forms, Devanagari without conjuncts, emoji sequences as separate
pictures), and right-to-left runs are reversed cluster by cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from math import ceil, floor

from PIL import ImageFont

from bot.boxart.typography import fonts
from bot.boxart.typography.fonts import FontDirs, Role, bitmap_px, font_chain, load_font
from bot.boxart.typography.runs import (
    TextRun,
    grapheme_clusters,
    is_rtl,
    prepare,
    run_directions,
    split,
    visual_order,
)

Box = tuple[int, int, int, int]

_EMOJI_EM = 0.85  # emoji em per text em: Noto's emoji cell (1.17 em of its own) comes out one text em tall
_LINE_GAP = 0.2  # space between the ink of two lines, in em


@dataclass(frozen=True)
class Piece:
    """A run on a line: pen offset from the line origin, ink box relative to its pen on the baseline."""

    run: TextRun
    direction: str
    x: int
    box: Box


@dataclass(frozen=True)
class Line:
    """The pieces of a line in visual order."""

    pieces: tuple[Piece, ...]
    box: Box  # ink box relative to the line origin on the baseline

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]


@dataclass(frozen=True)
class Block:
    """Lines set at one size, one under the other."""

    texts: tuple[str, ...]
    lines: tuple[Line, ...]
    baselines: tuple[int, ...]  # relative to the first baseline
    size: int

    @property
    def top(self) -> int:
        return self.lines[0].box[1]

    @property
    def width(self) -> int:
        return max(line.width for line in self.lines)

    @property
    def height(self) -> int:
        return self.baselines[-1] + self.lines[-1].box[3] - self.top


def text_args(text: str, direction: str) -> tuple[str, dict[str, str]]:
    """Text and keyword arguments for Pillow; the basic layout cannot take a direction, so right-to-left
    text is reversed by cluster instead."""
    if fonts.LAYOUT == ImageFont.Layout.RAQM:
        return text, {"direction": direction}
    return ("".join(reversed(grapheme_clusters(text))) if direction == "rtl" else text), {}


def union(boxes: Iterable[Box]) -> Box:
    """The smallest box around ``boxes`` (an empty box at the origin when there are none)."""
    x0s, y0s, x1s, y1s = zip(*(list(boxes) or [(0, 0, 0, 0)]), strict=True)
    return min(x0s), min(y0s), max(x1s), max(y1s)


def shift(box: Box, dx: int, dy: int) -> Box:
    """``box`` moved by ``dx``, ``dy``."""
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


@lru_cache(maxsize=4096)
def _run_metrics(run: TextRun, direction: str, size: int, stroke: int) -> tuple[float, Box]:
    """Advance and ink box (relative to the pen on the baseline) of a run at ``size``."""
    text, kwargs = text_args(run.text, direction)
    strike = bitmap_px(run.font_path)
    scale = 1.0 if strike is None else size * _EMOJI_EM / strike
    font = load_font(run.font_path, strike or size)
    x0, y0, x1, y1 = font.getbbox(text, anchor="ls", stroke_width=0 if strike else stroke, **kwargs)
    box = (floor(x0 * scale), floor(y0 * scale), ceil(x1 * scale), ceil(y1 * scale))
    return font.getlength(text, **kwargs) * scale, box


@lru_cache(maxsize=4096)
def layout_line(text: str, chain: tuple[str, ...], size: int, stroke: int, rtl: bool) -> Line:
    """``text`` set on one line at ``size`` px with fonts from ``chain``."""
    runs = split(text, chain, rtl)
    directions = run_directions(runs, rtl)
    pieces = []
    pen = 0.0
    for i in visual_order(directions, rtl):
        advance, box = _run_metrics(runs[i], directions[i], size, stroke)
        pieces.append(Piece(runs[i], directions[i], round(pen), box))
        pen += advance
    return Line(tuple(pieces), union(shift(p.box, p.x, 0) for p in pieces))


def stack(texts: Sequence[str], chain: tuple[str, ...], size: int, stroke: int, rtl: bool) -> Block:
    """Lines one under the other, ``_LINE_GAP`` em between the ink of neighbouring lines."""
    lines = [layout_line(text, chain, size, stroke, rtl) for text in texts]
    gap = round(size * _LINE_GAP)
    baselines = [0]
    for above, below in pairwise(lines):
        baselines.append(baselines[-1] + above.box[3] - below.box[1] + gap)
    return Block(tuple(texts), tuple(lines), tuple(baselines), size)


def measure(text: str, role: Role, size: int, font_dirs: FontDirs | None = None) -> tuple[int, int]:
    """Width and height of the ink of ``text`` set on one line at ``size`` px."""
    text = prepare(text, uppercase=False)
    line = layout_line(text, font_chain(role, font_dirs), size, 0, is_rtl(text))
    return line.width, line.box[3] - line.box[1]


def clear_caches() -> None:
    """Forget measured runs and lines."""
    for cached in (_run_metrics, layout_line):
        cached.cache_clear()
