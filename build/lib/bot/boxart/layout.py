"""Where every part of the packaging sits, for each box style, at any output size."""

from __future__ import annotations

from dataclasses import dataclass

Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class Layout:
    """Rectangles of one box style on a canvas of ``size`` (all in canvas pixels)."""

    style: str
    size: tuple[int, int]
    card: Rect
    radius: int
    band: Rect
    window: Rect
    slot_area: Rect
    slots_in_row: bool
    plate: Rect
    tagline: Rect
    badge: tuple[int, int, int]
    ages: Rect
    tab: Rect | None = None
    hole: Rect | None = None
    side: Rect | None = None

    @property
    def unit(self) -> float:
        """Scale of this canvas against the 1024 px wide reference design."""
        return self.size[0] / 1024

    def slots(self, count: int) -> list[Rect]:
        """``count`` equal compartments spread over the slot area."""
        left, top, right, bottom = self.slot_area
        gap = round(18 * self.unit)
        count = max(1, count)
        if self.slots_in_row:
            step = (right - left + gap) / count
            return [
                (round(left + i * step), top, round(left + i * step + step - gap), bottom)
                for i in range(count)
            ]
        step = (bottom - top + gap) / count
        return [
            (left, round(top + i * step), right, round(top + i * step + step - gap)) for i in range(count)
        ]


def _scaled(size: tuple[int, int], rects: dict[str, tuple[float, ...]]) -> dict[str, tuple[int, ...]]:
    """Turn reference-design coordinates (1024x1536) into canvas pixels."""
    sx, sy = size[0] / 1024, size[1] / 1536
    return {
        key: tuple(round(v * (sx if i % 2 == 0 else sy)) for i, v in enumerate(values))
        for key, values in rects.items()
    }


def blister_layout(size: tuple[int, int]) -> Layout:
    """A backing card with a hang tab, a tall blister on the left and accessory bubbles on the right."""
    r = _scaled(
        size,
        {
            "card": (40, 112, 984, 1504),
            "tab": (352, 24, 672, 150),
            "hole": (452, 56, 572, 88),
            "band": (40, 150, 984, 292),
            "window": (78, 322, 700, 1236),
            "slot_area": (730, 322, 950, 1236),
            "plate": (78, 1264, 946, 1402),
            "tagline": (96, 1410, 820, 1480),
            "ages": (828, 1420, 946, 1470),
        },
    )
    unit = size[0] / 1024
    return Layout(
        style="blister",
        size=size,
        radius=round(40 * unit),
        badge=(r["window"][0] + round(24 * unit), r["window"][1] + round(30 * unit), round(72 * unit)),
        slots_in_row=False,
        **r,
    )


def window_layout(size: tuple[int, int]) -> Layout:
    """A window box: printed frame, a large window, a row of accessory windows and a 3D side panel."""
    r = _scaled(
        size,
        {
            "card": (44, 44, 936, 1500),
            "side": (934, 98, 988, 1446),
            "band": (44, 44, 936, 236),
            "window": (96, 262, 884, 1088),
            "slot_area": (96, 1110, 884, 1262),
            "plate": (96, 1284, 884, 1408),
            "tagline": (110, 1414, 760, 1480),
            "ages": (772, 1424, 884, 1472),
        },
    )
    unit = size[0] / 1024
    return Layout(
        style="window",
        size=size,
        radius=round(28 * unit),
        badge=(r["window"][2] - round(40 * unit), r["window"][1] + round(40 * unit), round(70 * unit)),
        slots_in_row=True,
        **r,
    )


LAYOUTS = {"blister": blister_layout, "window": window_layout}


def layout_for(style: str, size: tuple[int, int]) -> Layout:
    """The layout of ``style`` (``blister`` or ``window``) at ``size``."""
    return LAYOUTS[style](size)
