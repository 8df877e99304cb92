"""Box art building blocks: patterns and layouts."""

from __future__ import annotations

import numpy as np
import pytest

from bot.boxart.layout import LAYOUTS, layout_for
from bot.boxart.patterns import PAINTERS, pattern_mask
from bot.themes import PATTERNS


def test_every_theme_pattern_has_a_painter() -> None:
    assert set(PATTERNS) <= set(PAINTERS)


@pytest.mark.parametrize("name", sorted(PAINTERS))
def test_pattern_covers_part_of_the_card(name: str) -> None:
    coverage = np.asarray(pattern_mask(name, (400, 600), 16), dtype=np.float32).mean() / 255
    assert 0.04 < coverage < 0.75


def test_patterns_differ() -> None:
    masks = {name: pattern_mask(name, (300, 300), 12).tobytes() for name in PAINTERS}
    assert len(set(masks.values())) == len(masks)


def inside(rect: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return outer[0] <= rect[0] < rect[2] <= outer[2] and outer[1] <= rect[1] < rect[3] <= outer[3]


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("style", sorted(LAYOUTS))
@pytest.mark.parametrize("size", [(1024, 1536), (512, 768), (2048, 3072)])
@pytest.mark.parametrize("count", [1, 3, 4])
def test_layout_parts_sit_on_the_card_and_never_overlap(
    style: str, size: tuple[int, int], count: int
) -> None:
    layout = layout_for(style, size)
    canvas = (0, 0, *size)
    slots = layout.slots(count)
    assert len(slots) == count
    parts = [layout.window, layout.plate, *slots]
    for part in [*parts, layout.band, layout.tagline, layout.ages]:
        assert inside(part, layout.card), part
        assert inside(part, canvas)
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            assert not overlap(a, b), (a, b)
