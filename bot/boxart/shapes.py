"""Small drawing helpers: anti-aliased shapes, colour mixing, gradients, soft shadows."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]
Rect = tuple[int, int, int, int]
SUPERSAMPLE = 3


def mix(a: RGB, b: RGB, amount: float) -> RGB:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    return tuple(round(x + (y - x) * amount) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def shade(colour: RGB, amount: float) -> RGB:
    """Darker (negative ``amount``) or lighter (positive) version of ``colour``."""
    return mix(colour, (0, 0, 0) if amount < 0 else (255, 255, 255), abs(amount))


def smooth_mask(size: tuple[int, int], draw_shapes) -> Image.Image:
    """An anti-aliased ``L`` mask: ``draw_shapes(draw, scale)`` paints at a supersampled size."""
    big = Image.new("L", (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE), 0)
    draw_shapes(ImageDraw.Draw(big), SUPERSAMPLE)
    return big.resize(size, Image.Resampling.BOX)


def rounded(size: tuple[int, int], rect: Rect, radius: int, width: int = 0) -> Image.Image:
    """Anti-aliased mask of a rounded rectangle (outline only when ``width`` > 0)."""

    def paint(draw: ImageDraw.ImageDraw, k: int) -> None:
        box = tuple(v * k for v in rect)
        if width:
            draw.rounded_rectangle(box, radius * k, outline=255, width=width * k)
        else:
            draw.rounded_rectangle(box, radius * k, fill=255)

    return smooth_mask(size, paint)


def fill(canvas: Image.Image, mask: Image.Image, colour: RGB, opacity: float = 1.0) -> None:
    """Paint ``colour`` onto RGBA ``canvas`` through ``mask`` at ``opacity``."""
    if opacity < 1.0:
        mask = mask.point(lambda v: round(v * opacity))
    layer = Image.new("RGBA", canvas.size, (*colour, 0))
    layer.putalpha(mask)
    canvas.alpha_composite(layer)


def vertical_gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """An RGB image fading from ``top`` to ``bottom``."""
    column = Image.new("RGB", (1, 256))
    column.putdata([mix(top, bottom, i / 255) for i in range(256)])
    return column.resize(size, Image.Resampling.BILINEAR)


def shadow(
    canvas: Image.Image, mask: Image.Image, offset: tuple[int, int], blur: float, opacity: float
) -> None:
    """A soft dark shadow of ``mask`` on ``canvas``, shifted by ``offset``."""
    moved = Image.new("L", mask.size, 0)
    moved.paste(mask, offset)
    fill(canvas, moved.filter(ImageFilter.GaussianBlur(blur)), (0, 0, 0), opacity)
