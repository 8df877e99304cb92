"""Fonts: the chain of font files tried for a role, what each covers, and loading them.

The bundled faces come first, then CJK and colour emoji fonts found on the system and every font in the
extra font folders. Those folders are a parameter of the search; ``configured_font_dirs`` is the one place
that reads them from the settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from fontTools.ttLib import TTCollection, TTFont
from PIL import ImageFont, features

from bot.config import get_settings

Role = Literal["display", "body"]
FontDirs = Sequence[str | os.PathLike[str]]

LAYOUT = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
FONT_DIRS_ENV = "FIGUREBOT_FONT_DIRS"

_FONT_DIR = Path(__file__).parent.with_name("fonts")
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


def configured_font_dirs() -> tuple[str, ...]:
    """Extra font folders from ``FIGUREBOT_FONT_DIRS``: the environment variable, else the setting (which
    may come from ``.env``); read on every call, so a changed variable takes effect at once."""
    value = os.environ.get(FONT_DIRS_ENV) or get_settings().figurebot_font_dirs
    return tuple(folder for folder in value.split(os.pathsep) if folder.strip())


def _dirs(font_dirs: FontDirs | None) -> tuple[str, ...]:
    return configured_font_dirs() if font_dirs is None else tuple(os.fspath(d) for d in font_dirs)


@dataclass(frozen=True)
class _SystemFonts:
    cjk: str | None
    emoji: str | None
    extra: tuple[str, ...]


def font_chain(role: Role, font_dirs: FontDirs | None = None) -> tuple[str, ...]:
    """Font files tried in order for ``role``: its own face, Noto Sans, Arabic, Hebrew, Devanagari, CJK,
    the fonts in ``font_dirs`` (default: ``configured_font_dirs()``), colour emoji (system fonts only
    when installed)."""
    return _chain(role, _dirs(font_dirs))


@lru_cache(maxsize=8)
def _chain(role: str, font_dirs: tuple[str, ...]) -> tuple[str, ...]:
    system = _system_fonts(font_dirs)
    bundled = [str(_FONT_DIR / name) for name in (*_ROLE_FONTS[role], *_SCRIPT_FONTS)]
    return tuple(path for path in dict.fromkeys([*bundled, system.cjk, *system.extra, system.emoji]) if path)


@lru_cache(maxsize=4)
def _system_fonts(font_dirs: tuple[str, ...]) -> _SystemFonts:
    """CJK and emoji fonts from the user and known system directories, plus every font of the user dirs."""
    user_dirs = [Path(d).expanduser() for d in font_dirs]
    user_files = [
        p for d in user_dirs if d.is_dir() for p in sorted(d.rglob("*")) if p.suffix.lower() in _FONT_SUFFIXES
    ]
    known = [Path(d).expanduser() / name for d in _SYSTEM_DIRS for name in (*_CJK_FILES, *_EMOJI_FILES)]
    candidates = [*user_files, *(p for p in known if p.is_file())]
    cjk = _first_named(candidates, _CJK_FILES)
    colour = _first_named(candidates, _EMOJI_FILES)
    extra = tuple(str(p) for p in user_files if str(p) not in (cjk, colour))
    return _SystemFonts(cjk, colour, extra)


def missing_system_fonts(font_dirs: FontDirs | None = None) -> list[str]:
    """Debian packages whose fonts were not found: without them CJK or colour emoji become placeholders."""
    system = _system_fonts(_dirs(font_dirs))
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


@lru_cache(maxsize=64)
def bitmap_px(path: str) -> int | None:
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
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The font at ``path`` (its chosen face) at ``size`` px, with the layout engine ``LAYOUT``."""
    return ImageFont.truetype(path, size, index=_face(path)[0], layout_engine=LAYOUT)


@lru_cache(maxsize=8)
def colour_first(chain: tuple[str, ...]) -> tuple[str, ...]:
    """``chain`` with the colour bitmap fonts moved to the front."""
    return tuple(sorted(chain, key=lambda path: bitmap_px(path) is None))


def first_covering(text: str, fonts: Iterable[str]) -> str | None:
    """The first of ``fonts`` that has every character of ``text`` (joiners and selectors aside)."""
    needed = {ord(ch) for ch in text} - _IGNORED
    return next((path for path in fonts if needed <= _face(path)[1]), None)


def clear_caches() -> None:
    """Forget discovered and loaded fonts."""
    for cached in (_chain, _system_fonts, _face, bitmap_px, load_font, colour_first):
        cached.cache_clear()
