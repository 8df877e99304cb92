"""Chest emblems as simple filled shapes on an ``L`` mask: star, bolt, shield, skull and the rest."""

from __future__ import annotations

from PIL import ImageDraw

from bot.figure.sculpt import Point, star_points


def _scaled(centre: Point, radius: float, points: list[Point]) -> list[Point]:
    x, y = centre
    return [(x + px * radius, y + py * radius) for px, py in points]


_BOLT = [(0.15, -1.0), (-0.55, 0.1), (-0.05, 0.1), (-0.25, 1.0), (0.55, -0.15), (0.05, -0.15), (0.3, -1.0)]
_SHIELD = [(-0.8, -0.9), (0.8, -0.9), (0.8, 0.0), (0.0, 1.0), (-0.8, 0.0)]
_FLAME = [
    (0.0, -1.0),
    (0.45, -0.2),
    (0.7, 0.4),
    (0.35, 1.0),
    (-0.35, 1.0),
    (-0.7, 0.4),
    (-0.3, -0.1),
    (-0.1, 0.2),
]


def draw_emblem(draw: ImageDraw.ImageDraw, kind: str, centre: Point, radius: float) -> None:
    """Fill the emblem ``kind`` of ``radius`` around ``centre``; unknown kinds draw a round badge."""
    x, y = centre
    r = radius
    if kind == "star":
        draw.polygon(star_points(centre, r, r * 0.45), fill=255)
    elif kind == "bolt":
        draw.polygon(_scaled(centre, r, _BOLT), fill=255)
    elif kind == "shield":
        draw.polygon(_scaled(centre, r, _SHIELD), fill=255)
        draw.rectangle((x - r * 0.12, y - r * 0.75, x + r * 0.12, y + r * 0.6), fill=0)
        draw.rectangle((x - r * 0.55, y - r * 0.35, x + r * 0.55, y - r * 0.12), fill=0)
    elif kind == "flame":
        draw.polygon(_scaled(centre, r, _FLAME), fill=255)
    elif kind == "heart":
        draw.ellipse((x - r, y - r * 0.8, x, y + r * 0.2), fill=255)
        draw.ellipse((x, y - r * 0.8, x + r, y + r * 0.2), fill=255)
        draw.polygon([(x - r * 0.97, y - r * 0.15), (x + r * 0.97, y - r * 0.15), (x, y + r)], fill=255)
    elif kind == "skull":
        draw.ellipse((x - r * 0.8, y - r, x + r * 0.8, y + r * 0.5), fill=255)
        draw.rectangle((x - r * 0.45, y + r * 0.2, x + r * 0.45, y + r * 0.85), fill=255)
        for eye in (-0.35, 0.35):
            draw.ellipse((x + (eye - 0.22) * r, y - r * 0.35, x + (eye + 0.22) * r, y + r * 0.05), fill=0)
        draw.line((x, y + r * 0.5, x, y + r * 0.85), fill=0, width=max(1, round(r * 0.1)))
    elif kind == "moon":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
        draw.ellipse((x - r * 0.45, y - r * 1.05, x + r * 1.25, y + r * 0.75), fill=0)
    elif kind == "note":
        draw.ellipse((x - r * 0.7, y + r * 0.3, x - r * 0.05, y + r * 0.85), fill=255)
        draw.rectangle((x - r * 0.2, y - r, x - r * 0.05, y + r * 0.6), fill=255)
        draw.polygon(
            [
                (x - r * 0.2, y - r),
                (x + r * 0.6, y - r * 0.6),
                (x + r * 0.6, y - r * 0.3),
                (x - r * 0.2, y - r * 0.6),
            ],
            fill=255,
        )
    elif kind == "atom":
        for angle in (0, 60, 120):
            width = max(2, round(r * 0.14))
            ring = (x - r, y - r * 0.38, x + r, y + r * 0.38)
            _rotated_ellipse(draw, ring, angle, width)
        draw.ellipse((x - r * 0.2, y - r * 0.2, x + r * 0.2, y + r * 0.2), fill=255)
    elif kind == "shell":
        draw.pieslice((x - r, y - r, x + r, y + r), 180, 360, fill=255)
        draw.polygon([(x - r, y), (x + r, y), (x, y + r * 0.6)], fill=255)
        for spoke in range(-2, 3):
            draw.line(
                (x, y + r * 0.4, x + spoke * r * 0.4, y - r * 0.85), fill=0, width=max(1, round(r * 0.06))
            )
    else:  # patch, badge: a round badge with a rim
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
        inner = r * 0.72
        draw.ellipse((x - inner, y - inner, x + inner, y + inner), outline=0, width=max(1, round(r * 0.08)))
        if kind == "badge":
            draw.polygon(star_points(centre, inner * 0.8, inner * 0.36), fill=0)


def _rotated_ellipse(draw: ImageDraw.ImageDraw, box: tuple[float, ...], degrees: float, width: int) -> None:
    """An ellipse outline turned by ``degrees`` about its centre, drawn as a closed polyline."""
    import math

    left, top, right, bottom = box
    cx, cy, rx, ry = (left + right) / 2, (top + bottom) / 2, (right - left) / 2, (bottom - top) / 2
    turn = math.radians(degrees)
    points = []
    for step in range(49):
        t = step / 48 * 2 * math.pi
        px, py = rx * math.cos(t), ry * math.sin(t)
        points.append(
            (cx + px * math.cos(turn) - py * math.sin(turn), cy + px * math.sin(turn) + py * math.cos(turn))
        )
    draw.line(points, fill=255, width=width, joint="curve")
