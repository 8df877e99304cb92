"""Text on the box art in any script: font fallback, right-to-left runs, colour emoji and fit-to-box.

Pillow draws with one font at a time and has no fallback, so text is cut into grapheme clusters and each
cluster goes to the first font of the role's chain that has all of its characters (``split_runs``). The
runs of a line are put in visual order with a run-level form of the Unicode bidi reordering, and libraqm
(through Pillow) shapes each run: Arabic joining, Indic conjuncts, emoji ZWJ sequences and flags.

Colour emoji fonts (CBDT/sbix bitmaps) only load at their strike size (109 px for Noto Color Emoji): emoji
runs are drawn at that size on a transparent layer, scaled to the text size and composited.

Without libraqm Pillow's basic layout is used: everything is still drawn with fonts that have the
characters, but unshaped (Arabic in isolated letter forms, Devanagari without conjuncts, emoji sequences as
separate pictures), and right-to-left runs are reversed cluster by cluster.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from math import ceil, floor
from pathlib import Path
from typing import Literal

import emoji
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image, ImageDraw, ImageFont, features

from bot.config import get_settings

Role = Literal["display", "body"]
Box = tuple[int, int, int, int]

LAYOUT = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
FONT_DIRS_ENV = "FIGUREBOT_FONT_DIRS"


def _font_dirs() -> str:
    """Extra font folders: the environment variable, else the setting (which may come from ``.env``)."""
    return os.environ.get(FONT_DIRS_ENV) or get_settings().figurebot_font_dirs


ELLIPSIS = "…"
PLACEHOLDER = "•"  # stands in for a character no available font has; both role fonts have it

_FONT_DIR = Path(__file__).with_name("fonts")
_ROLE_FONTS: dict[str, tuple[str, ...]] = {
    "display": ("BebasNeue-Bold.otf", "NotoSans-Bold.ttf"),
    "body": ("NotoSans-Bold.ttf",),
}
_SCRIPT_FONTS = ("NotoSansArabic-Bold.ttf", "NotoSansHebrew-Bold.ttf", "NotoSansDevanagari-Bold.ttf")
_CJK_FILES = ("NotoSansCJK-Bold.ttc", "NotoSansCJKjp-Bold.otf", "NotoSansCJKsc-Bold.otf")
_EMOJI_FILES = ("NotoColorEmoji.ttf",)
_SYSTEM_DIRS = (
    "/usr/share/fonts/opentype/noto",  # Debian/Ubuntu fonts-noto-cjk
    "/usr/share/fonts/truetype/noto",  # Debian/Ubuntu fonts-noto-color-emoji
    "/usr/share/fonts/noto-cjk",  # Arch
    "/usr/share/fonts/noto",  # Arch
    "/usr/share/fonts/google-noto-sans-cjk-fonts",  # Fedora
    "/usr/share/fonts/google-noto-color-emoji-fonts",  # Fedora
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/Library/Fonts",
)
_FONT_SUFFIXES = frozenset({".ttf", ".otf", ".ttc"})
_HANGUL_PROBE = 0xAC00  # picks the collection face that has Hangul
_IGNORED = frozenset({0x200D, 0xFE0E, 0xFE0F})  # never need a glyph of their own
_UNQUALIFIED = emoji.STATUS["unqualified"]
_EMOJI_EM = 0.85  # emoji em per text em: Noto's emoji cell (1.17 em of its own) comes out one text em tall
_LINE_GAP = 0.2  # space between the ink of two lines, in em
_ALIGNS = frozenset({"left", "center", "right"})


@dataclass(frozen=True)
class TextRun:
    """Consecutive clusters drawn with one font."""

    text: str
    font_path: str
    emoji: bool


@dataclass(frozen=True)
class DrawnText:
    """What ``draw_fitted_text`` drew; ``runs`` are in visual (left to right) order, line by line."""

    runs: tuple[TextRun, ...]
    size: int
    lines: tuple[str, ...]
    bbox: Box


# --- fonts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SystemFonts:
    cjk: str | None
    emoji: str | None
    extra: tuple[str, ...]


def font_chain(role: Role) -> tuple[str, ...]:
    """Font files tried in order for ``role``: its own face, Noto Sans, Arabic, Hebrew, Devanagari, CJK,
    fonts found in ``FIGUREBOT_FONT_DIRS``, colour emoji (system fonts only when installed)."""
    return _chain(role, _font_dirs())


@lru_cache(maxsize=8)
def _chain(role: str, env_dirs: str) -> tuple[str, ...]:
    system = _system_fonts(env_dirs)
    bundled = [str(_FONT_DIR / name) for name in (*_ROLE_FONTS[role], *_SCRIPT_FONTS)]
    return tuple(path for path in dict.fromkeys([*bundled, system.cjk, *system.extra, system.emoji]) if path)


@lru_cache(maxsize=4)
def _system_fonts(env_dirs: str) -> _SystemFonts:
    """CJK and emoji fonts from the user and known system directories, plus every font of the user dirs."""
    user_dirs = [Path(d).expanduser() for d in env_dirs.split(os.pathsep) if d.strip()]
    user_files = [
        p for d in user_dirs if d.is_dir() for p in sorted(d.rglob("*")) if p.suffix.lower() in _FONT_SUFFIXES
    ]
    known = [Path(d).expanduser() / name for d in _SYSTEM_DIRS for name in (*_CJK_FILES, *_EMOJI_FILES)]
    candidates = [*user_files, *(p for p in known if p.is_file())]
    cjk = _first_named(candidates, _CJK_FILES)
    colour = _first_named(candidates, _EMOJI_FILES)
    extra = tuple(str(p) for p in user_files if str(p) not in (cjk, colour))
    return _SystemFonts(cjk, colour, extra)


def missing_system_fonts() -> list[str]:
    """Debian packages whose fonts were not found: without them CJK or colour emoji become placeholders."""
    system = _system_fonts(_font_dirs())
    wanted = (("fonts-noto-cjk", system.cjk), ("fonts-noto-color-emoji", system.emoji))
    return [package for package, path in wanted if path is None]


def _first_named(files: Sequence[Path], names: Sequence[str]) -> str | None:
    return next((str(f) for name in names for f in files if f.name == name), None)


@lru_cache(maxsize=64)
def _face(path: str) -> tuple[int, frozenset[int]]:
    """Face index used from ``path`` and the code points it maps; in a collection the first face with
    Hangul (every Noto CJK face covers Han, kana and Hangul; the first is the Japanese one)."""
    faces: list[TTFont] = []
    chosen: tuple[int, frozenset[int]] = (0, frozenset())
    try:
        faces = (
            TTCollection(path, lazy=True).fonts
            if path.lower().endswith(".ttc")
            else [TTFont(path, lazy=True)]
        )
        for index, face in enumerate(faces):
            cmap = frozenset(face.getBestCmap() or ())
            if index == 0 or _HANGUL_PROBE in cmap:
                chosen = (index, cmap)
            if _HANGUL_PROBE in cmap:
                break
    except Exception:  # a damaged font file covers nothing
        return 0, frozenset()
    finally:
        for face in faces:
            face.close()
    return chosen


def _coverage(path: str) -> frozenset[int]:
    return _face(path)[1]


@lru_cache(maxsize=64)
def _bitmap_px(path: str) -> int | None:
    """Strike size of a colour bitmap (CBDT or sbix) font; None for outline fonts."""
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            if "CBLC" in font:
                return max(strike.bitmapSizeTable.ppemY for strike in font["CBLC"].strikes)
            if "sbix" in font:
                return max(font["sbix"].strikes)
    except Exception:  # unreadable: treated as an outline font that covers nothing
        return None
    return None


@lru_cache(maxsize=256)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=_face(path)[0], layout_engine=LAYOUT)


@lru_cache(maxsize=8)
def _colour_first(chain: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(chain, key=lambda path: _bitmap_px(path) is None))


def _first_covering(text: str, fonts: Iterable[str]) -> str | None:
    needed = {ord(ch) for ch in text} - _IGNORED
    return next((path for path in fonts if needed <= _coverage(path)), None)


# --- clusters and runs --------------------------------------------------------------------------------


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


def _is_rtl(text: str) -> bool:
    return _direction(text) == "rtl"


def split_runs(text: str, role: Role) -> list[TextRun]:
    """Split ``text`` into runs of one font each, in logical order (see the module docstring)."""
    return list(_split(text, font_chain(role), _is_rtl(text)))


@lru_cache(maxsize=2048)
def _split(text: str, chain: tuple[str, ...], rtl: bool) -> tuple[TextRun, ...]:
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
            runs.append(TextRun(cluster, path, _bitmap_px(path) is not None))
    return tuple(runs)


def _resolve(cluster: str, colour: bool, chain: tuple[str, ...]) -> tuple[str, str]:
    """The cluster (or, when no font has it, its base character or the placeholder) and its font."""
    fonts = _colour_first(chain) if colour else chain
    for candidate in (cluster, cluster[0]):
        path = _first_covering(candidate, fonts)
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
    return _first_covering(space, (p for p in [*fonts, *chain] if _bitmap_px(p) is None)) or chain[0]


def _run_directions(runs: Sequence[TextRun], rtl: bool) -> list[str]:
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


def _visual_order(directions: Sequence[str], rtl: bool) -> list[int]:
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


# --- layout ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """A run on a line: pen offset from the line origin, ink box relative to its pen on the baseline."""

    run: TextRun
    direction: str
    x: int
    box: Box


@dataclass(frozen=True)
class _Line:
    pieces: tuple[_Piece, ...]
    box: Box  # ink box relative to the line origin on the baseline

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]


@dataclass(frozen=True)
class _Block:
    texts: tuple[str, ...]
    lines: tuple[_Line, ...]
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


def _text_args(text: str, direction: str) -> tuple[str, dict[str, str]]:
    """Text and keyword arguments for Pillow; the basic layout cannot take a direction, so right-to-left
    text is reversed by cluster instead."""
    if LAYOUT == ImageFont.Layout.RAQM:
        return text, {"direction": direction}
    return ("".join(reversed(grapheme_clusters(text))) if direction == "rtl" else text), {}


def _union(boxes: Iterable[Box]) -> Box:
    x0s, y0s, x1s, y1s = zip(*(list(boxes) or [(0, 0, 0, 0)]), strict=True)
    return min(x0s), min(y0s), max(x1s), max(y1s)


def _emoji_scale(size: int, strike: int) -> float:
    return size * _EMOJI_EM / strike


@lru_cache(maxsize=4096)
def _run_metrics(run: TextRun, direction: str, size: int, stroke: int) -> tuple[float, Box]:
    """Advance and ink box (relative to the pen on the baseline) of a run at ``size``."""
    text, kwargs = _text_args(run.text, direction)
    strike = _bitmap_px(run.font_path)
    scale = 1.0 if strike is None else _emoji_scale(size, strike)
    font = _font(run.font_path, strike or size)
    x0, y0, x1, y1 = font.getbbox(text, anchor="ls", stroke_width=0 if strike else stroke, **kwargs)
    box = (floor(x0 * scale), floor(y0 * scale), ceil(x1 * scale), ceil(y1 * scale))
    return font.getlength(text, **kwargs) * scale, box


@lru_cache(maxsize=4096)
def _layout_line(text: str, chain: tuple[str, ...], size: int, stroke: int, rtl: bool) -> _Line:
    runs = _split(text, chain, rtl)
    directions = _run_directions(runs, rtl)
    pieces = []
    pen = 0.0
    for i in _visual_order(directions, rtl):
        advance, box = _run_metrics(runs[i], directions[i], size, stroke)
        pieces.append(_Piece(runs[i], directions[i], round(pen), box))
        pen += advance
    return _Line(tuple(pieces), _union(_shift(p.box, p.x, 0) for p in pieces))


def _shift(box: Box, dx: int, dy: int) -> Box:
    return box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy


def _stack(texts: Sequence[str], chain: tuple[str, ...], size: int, stroke: int, rtl: bool) -> _Block:
    """Lines one under the other, ``_LINE_GAP`` em between the ink of neighbouring lines."""
    lines = [_layout_line(text, chain, size, stroke, rtl) for text in texts]
    gap = round(size * _LINE_GAP)
    baselines = [0]
    for above, below in pairwise(lines):
        baselines.append(baselines[-1] + above.box[3] - below.box[1] + gap)
    return _Block(tuple(texts), tuple(lines), tuple(baselines), size)


def measure(text: str, role: Role, size: int) -> tuple[int, int]:
    """Width and height of the ink of ``text`` set on one line at ``size`` px."""
    text = _prepare(text, uppercase=False)
    line = _layout_line(text, font_chain(role), size, 0, _is_rtl(text))
    return line.width, line.box[3] - line.box[1]


# --- wrapping and fitting ----------------------------------------------------------------------------


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
class _Fit:
    text: str
    chain: tuple[str, ...]
    width: int
    height: int
    max_lines: int
    stroke_width: int
    max_size: int
    rtl: bool

    def stroke(self, size: int) -> int:
        if self.stroke_width <= 0:
            return 0
        return max(1, round(self.stroke_width * size / self.max_size))

    def fits_line(self, size: int) -> Callable[[str], bool]:
        stroke = self.stroke(size)
        return lambda line: _layout_line(line, self.chain, size, stroke, self.rtl).width <= self.width

    def at(self, size: int) -> _Block | None:
        """The wrapped block at ``size`` if it fits the box."""
        lines = _wrap(self.text, self.fits_line(size), self.max_lines)
        block = _stack(lines, self.chain, size, self.stroke(size), self.rtl)
        return block if block.width <= self.width and block.height <= self.height else None

    def truncated(self, size: int) -> _Block:
        """As many lines as fit the height (at least one), the last one cut with an ellipsis."""
        for count in range(self.max_lines, 1, -1):
            block = self._cut(size, count)
            if block.height <= self.height:
                return block
        return self._cut(size, 1)

    def _cut(self, size: int, count: int) -> _Block:
        fits = self.fits_line(size)
        lines = _wrap(self.text, fits, count, break_words=True)
        lines[-1] = _ellipsize(lines[-1], fits)
        return _stack(lines, self.chain, size, self.stroke(size), self.rtl)

    def best(self, min_size: int) -> _Block:
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


# --- drawing ------------------------------------------------------------------------------------------


def _prepare(text: str, uppercase: bool) -> str:
    """Single spaces, composed characters (fonts map precomposed letters), optional upper case (which
    leaves emoji untouched)."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    return text.upper() if uppercase else text


def draw_fitted_text(
    img: Image.Image,
    box: Box,
    text: str,
    *,
    role: Role = "body",
    fill: tuple[int, int, int] = (0, 0, 0),
    max_size: int = 64,
    min_size: int = 10,
    max_lines: int = 2,
    align: str = "center",
    stroke_width: int = 0,
    stroke_fill: tuple[int, int, int] | None = None,
    uppercase: bool = False,
) -> DrawnText:
    """Draw ``text`` as large as fits ``box`` (``min_size``..``max_size`` px, up to ``max_lines`` lines,
    centred vertically, aligned horizontally); cut with an ellipsis when even ``min_size`` is too big.
    ``stroke_width`` applies at ``max_size`` and scales with the size."""
    if align not in _ALIGNS:
        raise ValueError(f"align must be one of {sorted(_ALIGNS)}, not {align!r}")
    text = _prepare(text, uppercase)
    left, top, right, bottom = box
    if not text:
        middle = ((left + right) // 2, (top + bottom) // 2)
        return DrawnText((), max_size, (), (*middle, *middle))
    fit = _Fit(
        text,
        font_chain(role),
        right - left,
        bottom - top,
        max(1, max_lines),
        stroke_width,
        max_size,
        _is_rtl(text),
    )
    block = fit.best(min(min_size, max_size))
    stroke = fit.stroke(block.size)
    y = top + (bottom - top - block.height) // 2 - block.top
    draw = ImageDraw.Draw(img)
    runs: list[TextRun] = []
    drawn: list[Box] = []
    for line, baseline in zip(block.lines, block.baselines, strict=True):
        x = _line_x(line, left, right, align)
        for piece in line.pieces:
            origin = (x + piece.x, y + baseline)
            _draw_piece(img, draw, piece, origin, block.size, fill, stroke, stroke_fill)
            runs.append(piece.run)
            drawn.append(_shift(piece.box, *origin))
    return DrawnText(tuple(runs), block.size, block.texts, _union(drawn))


def _line_x(line: _Line, left: int, right: int, align: str) -> int:
    if align == "left":
        return left - line.box[0]
    if align == "right":
        return right - line.box[2]
    return left + (right - left - line.width) // 2 - line.box[0]


def _draw_piece(
    img: Image.Image,
    draw: ImageDraw.ImageDraw,
    piece: _Piece,
    origin: tuple[int, int],
    size: int,
    fill: tuple[int, int, int],
    stroke: int,
    stroke_fill: tuple[int, int, int] | None,
) -> None:
    text, kwargs = _text_args(piece.run.text, piece.direction)
    if not piece.run.emoji:
        font = _font(piece.run.font_path, size)
        options = {"fill": fill, "font": font, "stroke_width": stroke, "stroke_fill": stroke_fill}
        draw.text(origin, text, anchor="ls", **options, **kwargs)
        return
    x0, y0, x1, y1 = piece.box
    layer = _scaled_emoji(piece.run.text, piece.run.font_path, piece.direction, (x1 - x0, y1 - y0))
    composite(img, layer, (origin[0] + x0, origin[1] + y0))


@lru_cache(maxsize=256)
def _scaled_emoji(text: str, path: str, direction: str, size: tuple[int, int]) -> Image.Image:
    return _emoji_layer(text, path, direction).resize(size, Image.Resampling.LANCZOS)


@lru_cache(maxsize=128)
def _emoji_layer(text: str, path: str, direction: str) -> Image.Image:
    """Colour emoji run rendered at the font's strike size on transparency, cropped to its layout box."""
    strike = _bitmap_px(path)
    assert strike is not None
    font = _font(path, strike)
    shaped, kwargs = _text_args(text, direction)
    x0, y0, x1, y1 = font.getbbox(shaped, anchor="ls", **kwargs)
    layer = Image.new("RGBA", (max(1, x1 - x0), max(1, y1 - y0)))
    ImageDraw.Draw(layer).text((-x0, -y0), shaped, font=font, anchor="ls", embedded_color=True, **kwargs)
    return layer


def composite(img: Image.Image, layer: Image.Image, xy: tuple[int, int]) -> None:
    """Alpha-composite the RGBA ``layer`` onto ``img`` at ``xy`` (an RGBA ``img`` keeps correct alpha)."""
    if img.mode == "RGBA":
        region = img.crop((xy[0], xy[1], xy[0] + layer.width, xy[1] + layer.height))
        img.paste(Image.alpha_composite(region, layer), xy)
    else:
        img.paste(layer, xy, layer)


def draw_emoji(img: Image.Image, box: Box, text: str) -> bool:
    """Draw the colour emoji ``text`` centred in ``box``, as large as fits; False (nothing drawn) when no
    colour emoji font has it."""
    colour_fonts = (path for path in font_chain("body") if _bitmap_px(path) is not None)
    path = _first_covering(text, colour_fonts) if text else None
    if path is None:
        return False
    layer = _emoji_layer(text, path, "ltr")
    layer = layer.crop(layer.getchannel("A").getbbox() or (0, 0, layer.width, layer.height))
    width, height = box[2] - box[0], box[3] - box[1]
    scale = min(width / layer.width, height / layer.height)
    size = (max(1, round(layer.width * scale)), max(1, round(layer.height * scale)))
    xy = (box[0] + (width - size[0]) // 2, box[1] + (height - size[1]) // 2)
    composite(img, layer.resize(size, Image.Resampling.LANCZOS), xy)
    return True


def clear_caches() -> None:
    """Forget discovered fonts, loaded fonts and layouts (after installing fonts or changing ``LAYOUT``)."""
    caches = (_chain, _system_fonts, _face, _bitmap_px, _font, _colour_first, _clusters, _split)
    for cached in (*caches, _run_metrics, _layout_line, _emoji_layer, _scaled_emoji):
        cached.cache_clear()
