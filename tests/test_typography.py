"""Multi-script text: every character drawn with a font that has it, shaped, ordered, fitted to its box."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image, ImageChops, ImageFont

from bot.boxart import typography
from bot.boxart.typography import DrawnText, TextRun, fonts
from bot.boxart.typography.layout import measure
from bot.boxart.typography.runs import PLACEHOLDER, split_runs
from bot.boxart.typography.wrapping import ELLIPSIS

Box = tuple[int, int, int, int]
WHITE = (255, 255, 255)
IGNORED = {0x200D, 0xFE0E, 0xFE0F}
ENGLAND = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"  # flag: tag sequence
NAMES = {
    "latin": ("Alex", "BebasNeue-Bold.otf"),
    "cyrillic": ("Жанна", "BebasNeue-Bold.otf"),
    "greek": ("Γιώργος", "NotoSans-Bold.ttf"),
    "chinese": ("山田太郎", "NotoSansCJK-Bold.ttc"),
    "japanese-kana": ("さくら ミク", "NotoSansCJK-Bold.ttc"),
    "korean": ("김민준", "NotoSansCJK-Bold.ttc"),
    "arabic": ("محمد علي", "NotoSansArabic-Bold.ttf"),
    "hebrew": ("שרה לוי", "NotoSansHebrew-Bold.ttf"),
    "devanagari": ("अर्जुन", "NotoSansDevanagari-Bold.ttf"),
    "emoji": ("🚀👩‍🚀🇯🇵👍🏽1️⃣", "NotoColorEmoji.ttf"),
    "latin+emoji": ("Zoë 🚀👩‍🚀🇯🇵", "BebasNeue-Bold.otf"),
    "mixed": ("Alex 山田 محمد", "BebasNeue-Bold.otf"),
}


@pytest.fixture(autouse=True)
def system_fonts() -> None:
    missing = typography.missing_system_fonts()
    if missing:
        pytest.fail(
            f"system fonts not found; install the Debian package(s): sudo apt-get install {' '.join(missing)}"
        )


@cache
def cmap(path: str) -> frozenset[int]:
    """Code points every face of the font file maps (a collection's faces must all have them)."""
    faces = TTCollection(path).fonts if path.endswith(".ttc") else [TTFont(path)]
    return frozenset.intersection(*(frozenset(face.getBestCmap()) for face in faces))


def assert_fonts_cover(runs: tuple[TextRun, ...] | list[TextRun]) -> None:
    for run in runs:
        missing = {ord(ch) for ch in run.text} - IGNORED - cmap(run.font_path)
        assert not missing, f"{run.font_path} lacks {[hex(cp) for cp in missing]} in {run.text!r}"


def ink_bbox(img: Image.Image) -> Box | None:
    return ImageChops.difference(img.convert("RGB"), Image.new("RGB", img.size, WHITE)).getbbox()


def inside(inner: Box | None, outer: Box) -> bool:
    assert inner is not None, "nothing was drawn"
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def draw(text: str, box: Box = (20, 20, 620, 140), **options: Any) -> tuple[Image.Image, DrawnText]:
    img = Image.new("RGB", (640, 160), WHITE)
    return img, typography.draw_fitted_text(img, box, text, **options)


def red_pixels(img: Image.Image) -> int:
    pixels = np.asarray(img.convert("RGB")).astype(int)
    return int(((pixels[..., 0] > 200) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)).sum())


def colourful_pixels(img: Image.Image) -> int:
    pixels = np.asarray(img.convert("RGB")).astype(int)
    return int(((pixels.max(axis=2) - pixels.min(axis=2)) > 60).sum())


def components(mask: np.ndarray) -> int:
    """Number of 8-connected regions of ``mask`` (grown one pixel ring at a time)."""
    remaining = mask.copy()
    count = 0
    while remaining.any():
        region = np.zeros_like(remaining)
        region[tuple(np.argwhere(remaining)[0])] = True
        while True:
            grown = region.copy()
            for dy, dx in ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)):
                grown |= np.roll(region, (dy, dx), axis=(0, 1))
            grown &= remaining
            if (grown == region).all():
                break
            region = grown
        remaining &= ~region
        count += 1
    return count


@pytest.fixture
def basic_layout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(fonts, "LAYOUT", ImageFont.Layout.BASIC)
    typography.clear_caches()
    yield
    monkeypatch.undo()
    typography.clear_caches()


def test_font_chains_list_role_font_then_script_fallbacks_then_emoji() -> None:
    display = [Path(p).name for p in fonts.font_chain("display")]
    body = [Path(p).name for p in fonts.font_chain("body")]
    fallbacks = ["NotoSansArabic-Bold.ttf", "NotoSansHebrew-Bold.ttf", "NotoSansDevanagari-Bold.ttf"]
    assert display[:5] == ["BebasNeue-Bold.otf", "NotoSans-Bold.ttf", *fallbacks]
    assert body[:4] == ["NotoSans-Bold.ttf", *fallbacks]
    for chain in (display, body):
        assert chain[-2:] == ["NotoSansCJK-Bold.ttc", "NotoColorEmoji.ttf"]


@pytest.mark.parametrize("role", ["display", "body"])
@pytest.mark.parametrize("script", NAMES)
def test_every_character_is_drawn_with_a_font_that_has_it(script: str, role: fonts.Role) -> None:
    name, first_font = NAMES[script]
    img, drawn = draw(name, role=role, max_size=90)
    assert_fonts_cover(drawn.runs)
    logical = split_runs(name, role)
    assert "".join(run.text for run in logical) == name  # nothing replaced by a placeholder
    assert set(drawn.runs) == set(logical)
    expected = "NotoSans-Bold.ttf" if role == "body" and first_font == "BebasNeue-Bold.otf" else first_font
    assert Path(logical[0].font_path).name == expected
    assert inside(ink_bbox(img), drawn.bbox) and inside(drawn.bbox, (20, 20, 620, 140))


def test_clusters_keep_emoji_sequences_and_marks_together() -> None:
    text = f"👩‍🚀👍🏽🇯🇵1️⃣{ENGLAND}e\u0301अर्जु"
    assert typography.grapheme_clusters(text) == [
        "👩‍🚀",
        "👍🏽",
        "🇯🇵",
        "1️⃣",
        ENGLAND,
        "e\u0301",
        "अ",
        "र्",
        "जु",
    ]
    (run,) = split_runs("👩‍🚀👍🏽🇯🇵1️⃣", "body")
    assert run.emoji and Path(run.font_path).name == "NotoColorEmoji.ttf"


def test_runs_merge_per_font_and_spaces_join_a_neighbour() -> None:
    runs = split_runs("Alex 山田 محمد", "display")
    assert [(r.text, Path(r.font_path).name) for r in runs] == [
        ("Alex ", "BebasNeue-Bold.otf"),
        ("山田 ", "NotoSansCJK-Bold.ttc"),
        ("محمد", "NotoSansArabic-Bold.ttf"),
    ]
    # a space after an emoji stays out of the emoji font, where it would be emoji-wide
    assert [r.text for r in split_runs("🚀 Zoë", "body")] == ["🚀", " Zoë"]


def test_text_style_symbols_use_text_fonts_and_unknown_scripts_get_a_placeholder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(fonts.FONT_DIRS_ENV, raising=False)
    (copyright_run,) = split_runs("©", "body")
    assert not copyright_run.emoji
    (thai,) = split_runs("สมชาย", "body")
    assert thai.text == PLACEHOLDER * 5
    assert_fonts_cover([thai])


def test_arabic_is_shaped_into_joined_letters() -> None:
    assert fonts.LAYOUT == ImageFont.Layout.RAQM, "Pillow was built without libraqm"
    img, drawn = draw("محمد", max_size=100, min_size=100)
    assert arabic_letter_groups(img, drawn) == 1  # م ح م د all join into one shape
    font = TTFont(drawn.runs[0].font_path)
    glyphs = [font.getBestCmap()[ord(ch)] for ch in "محمد"]
    isolated = sum(font["hmtx"][glyph][0] for glyph in glyphs) * 100 / font["head"].unitsPerEm
    assert abs(measure("محمد", "body", 100)[0] - isolated) > 0.03 * isolated


def arabic_letter_groups(img: Image.Image, drawn: DrawnText) -> int:
    return components(np.asarray(img.convert("L").crop(drawn.bbox)) < 128)


def test_rtl_paragraph_puts_the_first_logical_run_on_the_right() -> None:
    box = (20, 20, 620, 140)
    img, drawn = draw("שרה Alex", box, align="right", max_size=60, min_size=60)
    assert [Path(r.font_path).name for r in drawn.runs] == ["NotoSans-Bold.ttf", "NotoSansHebrew-Bold.ttf"]
    alone, hebrew = draw("שרה", box, align="right", max_size=60, min_size=60)
    # the ink columns at the right end follow those of the Hebrew word drawn alone (± a pixel of rounding)
    full, solo = column_ink(img)[hebrew.bbox[0] :], column_ink(alone)[hebrew.bbox[0] :]
    assert max(np.corrcoef(np.roll(full, shift), solo)[0, 1] for shift in (-1, 0, 1)) > 0.95
    assert column_ink(img)[box[0] : hebrew.bbox[0] - 10].sum() > 0  # and "Alex" is to its left


def column_ink(img: Image.Image) -> np.ndarray:
    return (255 - np.asarray(img.convert("L")).astype(int)).sum(axis=0)


def test_ltr_paragraph_keeps_embedded_rtl_words_in_place() -> None:
    runs = draw("Alex محمد Smith")[1].runs
    assert [r.text for r in runs] == ["Alex ", "محمد", " Smith"]
    rtl_runs = draw("محمد Alex Smith علي")[1].runs  # the Latin phrase stays in reading order in between
    assert [r.text for r in rtl_runs] == [" علي", "Alex Smith", "محمد "]


def test_long_names_shrink_and_wrap_inside_the_box() -> None:
    box = (20, 20, 260, 120)
    name = "Maximilian Alexander von Hohenzollern-Sigmaringen"
    img, drawn = draw(name, box, max_size=64, min_size=10)
    assert len(drawn.lines) == 2 and 10 < drawn.size < 64
    assert inside(ink_bbox(img), drawn.bbox) and inside(drawn.bbox, box)
    assert typography.draw_fitted_text(img, box, name, max_lines=1).size < drawn.size


def test_cjk_wraps_between_characters() -> None:
    box = (20, 20, 220, 140)
    img, drawn = draw("山田太郎山田太郎山田太郎", box, max_size=64, min_size=10)
    assert len(drawn.lines) == 2 and "".join(drawn.lines) == "山田太郎山田太郎山田太郎"
    assert inside(ink_bbox(img), drawn.bbox) and inside(drawn.bbox, box)


@pytest.mark.parametrize("text", ["Maximilian Alexander von Hohenzollern", "محمد بن عبد الله بن عبد المطلب"])
def test_impossible_fit_is_cut_with_an_ellipsis(text: str) -> None:
    box = (20, 20, 140, 44)
    img, drawn = draw(text, box, max_size=40, min_size=14, max_lines=1)
    assert drawn.size == 14 and len(drawn.lines) == 1
    assert drawn.lines[0].endswith(ELLIPSIS) and len(drawn.lines[0]) < len(text)
    assert any(ELLIPSIS in run.text for run in drawn.runs)
    assert_fonts_cover(drawn.runs)
    assert inside(ink_bbox(img), drawn.bbox) and inside(drawn.bbox, box)


def test_emoji_are_drawn_in_colour_from_the_emoji_font() -> None:
    img, drawn = draw("🚀", fill=(0, 0, 0))
    (run,) = drawn.runs
    assert run.emoji and Path(run.font_path).name == "NotoColorEmoji.ttf"
    assert colourful_pixels(img.crop(drawn.bbox)) > 500
    text_only = draw("Alex", fill=(0, 0, 0))[0]
    assert colourful_pixels(text_only) == 0


def test_emoji_sit_on_the_text_baseline() -> None:
    _, text = draw("Alex", max_size=80, min_size=80)
    _, mixed = draw("Alex 🚀", max_size=80, min_size=80)
    emoji_height = mixed.bbox[3] - mixed.bbox[1]
    assert 60 <= emoji_height <= 90
    assert abs(mixed.bbox[3] - text.bbox[3]) < 0.25 * 80  # bottoms (baseline + descent) roughly level


def test_uppercase_leaves_emoji_intact() -> None:
    name = f"zoë straße 👩🏽‍🚀 {ENGLAND}"
    _, drawn = draw(name, uppercase=True, max_lines=1)
    assert drawn.lines == (f"ZOË STRASSE 👩🏽‍🚀 {ENGLAND}",)
    assert [r.text for r in drawn.runs if r.emoji] == ["👩🏽‍🚀", ENGLAND]


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_alignment_and_stroke_stay_inside_the_box(align: str) -> None:
    box = (20, 20, 620, 140)
    img, drawn = draw("Alex 🚀", box, align=align, stroke_width=6, stroke_fill=(255, 0, 0), max_size=60)
    assert inside(ink_bbox(img), drawn.bbox) and inside(drawn.bbox, box)
    edge = {"left": drawn.bbox[0] - box[0], "right": box[2] - drawn.bbox[2]}.get(align)
    assert edge is None or edge <= 1
    assert red_pixels(img) > red_pixels(draw("Alex 🚀", box, align=align, max_size=60)[0])  # the red outline


def test_rgba_images_keep_their_transparency() -> None:
    img = Image.new("RGBA", (400, 120), (0, 0, 0, 0))
    drawn = typography.draw_fitted_text(img, (10, 10, 390, 110), "Zoë 🚀", fill=(200, 0, 0))
    alpha = img.getchannel("A")
    assert alpha.getbbox() is not None and inside(alpha.getbbox(), drawn.bbox)
    assert colourful_pixels(Image.alpha_composite(Image.new("RGBA", img.size, WHITE), img)) > 300


def test_measure_scales_with_size() -> None:
    small, large = measure("Alex 山田", "body", 20), measure("Alex 山田", "body", 40)
    assert small[0] > 0 and small[1] > 0
    assert abs(large[0] - 2 * small[0]) <= 4 and abs(large[1] - 2 * small[1]) <= 4


def test_empty_text_draws_nothing_and_bad_align_is_refused() -> None:
    img, drawn = draw("   ")
    assert drawn.runs == () and drawn.lines == () and ink_bbox(img) is None
    with pytest.raises(ValueError, match="align"):
        draw("Alex", align="justify")


def test_font_dirs_add_fallback_fonts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    extra = tmp_path / "more" / "Extra-Regular.ttf"
    extra.parent.mkdir()
    extra.symlink_to(Path(fonts.font_chain("body")[0]).with_name("NotoSans-Regular.ttf"))
    monkeypatch.setenv(fonts.FONT_DIRS_ENV, str(tmp_path))
    chain = fonts.font_chain("body")
    assert chain[-2:] == (str(extra), fonts.font_chain("display")[-1])
    # folders passed in are used instead of the configured ones
    assert fonts.font_chain("body", [tmp_path]) == chain
    assert str(extra) not in fonts.font_chain("body", [])


def test_without_raqm_text_still_draws_with_covering_fonts(basic_layout: None) -> None:
    for name, _ in NAMES.values():
        img, drawn = draw(name)
        assert_fonts_cover(drawn.runs)
        assert ink_bbox(img) is not None
    img, drawn = draw("محمد", max_size=100, min_size=100)
    assert arabic_letter_groups(img, drawn) == 4  # unshaped: isolated letters
