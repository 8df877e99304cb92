"""Photo intake: uploaded bytes become a clean, upright sRGB image, or one friendly refusal.

Every limit is checked as early as it can be: the file size before parsing, the structure of a JPEG
or TIFF before Pillow parses it, the pixel count from the header before any pixel is decoded. Deep,
transparent or unusual pixels are converted one band of rows at a time and shrunk straight away, so
no full-size converted copy is ever held. The returned image is rebuilt from pixels, so no EXIF (GPS),
XMP, IPTC, comment, thumbnail or ICC profile of the upload survives.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pillow_heif
from PIL import Image, ImageFile

from bot.config import MB, Settings
from bot.errors import UserFacingError
from bot.photo_structure import UNREADABLE, TooComplex, orientation, screened_jpeg, tiff_size

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without Little CMS: colours are taken as sRGB
    ImageCms = None

_SEND_A_PHOTO = "Send a JPEG, PNG, WebP, HEIC, AVIF, GIF or TIFF image."
NOT_A_FILE = f"That upload is not a file I can read. {_SEND_A_PHOTO}"
EMPTY_FILE = f"That file is empty. {_SEND_A_PHOTO}"
NOT_A_PHOTO = f"That file is not a photo I can read. {_SEND_A_PHOTO}"
DAMAGED = "That photo looks damaged or incomplete; please send it again."
UNUSUAL = "That photo is built in an unusual way I can't safely read; please send it as a normal JPEG or PNG."

# A drafted JPEG may come out this much smaller than the long-side limit instead of being resized.
DRAFT_SLACK = 0.9
# Registry names tried in order; AVIF comes before HEIF because both claim "mif1" files.
_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "AVIF", "HEIF", "TIFF")
_HIGH_DEPTH_GRAY = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_WHITE_POINTS = (1.0, 255.0, 65535.0)
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Fast settings: PNG level 1 and WebP method 2 cost little in size and save most of the encode time.
_ENCODE_OPTIONS: dict[str, dict[str, int]] = {
    "PNG": {"compress_level": 1},
    "JPEG": {"quality": 92},
    "WEBP": {"quality": 92, "method": 2},
}
# Shrinking first box-reduces by a whole factor, leaving Lanczos at most this ratio (as Pillow does).
_REDUCING_GAP = 3.0
_LANCZOS_SUPPORT = 3.0  # source pixels the Lanczos filter reaches either side, per output pixel
# Pixels converted at a time: a band of a float image then costs 8 MB of float64 work space.
_BAND_PIXELS = 1 << 20


@dataclass(frozen=True)
class IntakeLimits:
    """What a photo may weigh and measure; sizes in bytes and pixels."""

    max_bytes: int = 20 * MB
    max_pixels: int = 40_000_000
    min_side: int = 256
    max_side: int = 2048

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakeLimits:
        """The limits configured in ``settings``."""
        return cls(
            max_bytes=int(settings.photo_max_mb * MB),
            max_pixels=int(settings.photo_max_megapixels * 1_000_000),
            min_side=settings.photo_min_side,
            max_side=settings.photo_max_side,
        )


class PhotoRejected(UserFacingError):
    """The upload cannot be used as a photo; the message tells the user why."""


@dataclass(frozen=True)
class Photo:
    """An upright 8-bit sRGB photo without any metadata."""

    image: Image.Image
    source_format: str

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def encode(self, fmt: str = "PNG") -> bytes:
        """The photo as PNG, JPEG (quality 92) or WebP (quality 92) bytes, with no metadata."""
        fmt = fmt.upper()
        if fmt not in _ENCODE_OPTIONS:
            raise ValueError(f"cannot encode a photo as {fmt!r}; use PNG, JPEG or WEBP")
        buffer = io.BytesIO()
        self.image.save(buffer, fmt, **_ENCODE_OPTIONS[fmt])
        return buffer.getvalue()

    @classmethod
    def from_stored(cls, data: bytes) -> Photo:
        """A photo this module already cleaned and encoded (read back from the store)."""
        image = Image.open(io.BytesIO(data))
        image.load()
        image.info.clear()
        return cls(image if image.mode == "RGB" else image.convert("RGB"), "stored")


def accept_photo(data: bytes, limits: IntakeLimits | None = None) -> Photo:
    """Check and decode an uploaded photo (any bytes-like object).

    Raises :class:`PhotoRejected`, whose message is written for the user, when it cannot be used.
    """
    limits = limits or IntakeLimits()
    data = _checked_bytes(data, limits)
    source_format, image, exif = _identify(data, limits)
    try:
        _check_dimensions(image.size, limits)
        _decode(image, limits.max_side)
        # Pillow turns a TIFF upright itself while loading it.
        turn = None if source_format == "TIFF" else _UPRIGHT.get(orientation(image.info, exif))
        rgb = _srgb(_shrunk_eight_bit(image, limits.max_side), image.info.get("icc_profile"))
        if turn is not None:
            rgb = rgb.transpose(turn)
        clean = Image.new("RGB", rgb.size)
        clean.paste(rgb)
    finally:
        image.close()  # frees the decoded pixels now rather than whenever the collector runs
    return Photo(clean, source_format)


def _checked_bytes(data: object, limits: IntakeLimits) -> bytes:
    """The upload as bytes, refused unless it is a non-empty byte string within the size limit."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise PhotoRejected(NOT_A_FILE)
    data = bytes(data)
    if not data:
        raise PhotoRejected(EMPTY_FILE)
    check_file_size(len(data), limits)
    return data


def check_file_size(size: int, limits: IntakeLimits) -> None:
    """Refuse a file of ``size`` bytes over the limit, saying both sizes."""
    if size > limits.max_bytes:
        raise PhotoRejected(
            f"That file is {describe_size(size, round_up=True)}; "
            f"the limit is {describe_size(limits.max_bytes, round_up=False)}."
        )


@cache
def _openers() -> dict[str, tuple[Callable[..., ImageFile.ImageFile], Callable[[bytes], bool | str]]]:
    """Pillow's header parsers for the accepted formats, with HEIF registered once."""
    pillow_heif.register_heif_opener()
    Image.init()
    return {fmt: Image.OPEN[fmt] for fmt in _FORMATS if fmt in Image.OPEN}


def _identify(data: bytes, limits: IntakeLimits) -> tuple[str, ImageFile.ImageFile, bytes | None]:
    """Parse the header only; also returns a JPEG's EXIF, which Pillow is not given.

    Pillow's own parsers are called directly rather than through ``Image.open`` so that its
    decompression-bomb warning or error never preempts the pixel limit checked next. A JPEG or TIFF
    is screened by hand first, since Pillow's parsers for those can be made slow or hungry.
    """
    prefix = data[:16]
    failure: Exception | None = None
    for fmt, (factory, accept) in _openers().items():
        recognised = accept(prefix)
        if not recognised or isinstance(recognised, str):  # a string explains why it is not this format
            continue
        source, exif = data, None
        try:
            if fmt == "JPEG":
                source, exif = screened_jpeg(data)
            elif fmt == "TIFF":
                _check_tiff_size(tiff_size(data), limits)
        except TooComplex as exc:
            raise PhotoRejected(UNUSUAL) from exc
        except UNREADABLE as exc:
            raise PhotoRejected(DAMAGED) from exc
        try:
            return fmt, factory(io.BytesIO(source), ""), exif
        except Exception as exc:  # a recognised signature with an unreadable header
            failure = exc
    if failure is not None:
        raise PhotoRejected(DAMAGED) from failure
    raise PhotoRejected(NOT_A_PHOTO)


def _check_tiff_size(size: tuple[int | None, int | None], limits: IntakeLimits) -> None:
    width, height = size
    if width is not None and height is not None:
        _check_pixels(width * height, limits)


def _check_dimensions(size: tuple[int, int], limits: IntakeLimits) -> None:
    width, height = size
    _check_pixels(width * height, limits)
    if min(width, height) < limits.min_side:
        raise PhotoRejected(
            f"That photo is {width}x{height} pixels; "
            f"it needs to be at least {limits.min_side} pixels on each side."
        )


def _check_pixels(pixels: int, limits: IntakeLimits) -> None:
    if pixels > limits.max_pixels:
        raise PhotoRejected(
            f"That image is {_amount(pixels, 1_000_000, round_up=True)} megapixels; "
            f"the limit is {_amount(limits.max_pixels, 1_000_000, round_up=False)} megapixels."
        )


def _decode(image: ImageFile.ImageFile, max_side: int) -> None:
    """Decode the first frame; a large JPEG decodes straight at a reduced scale (1/2, 1/4, 1/8).

    The smallest scale whose long side still reaches ``DRAFT_SLACK`` of ``max_side`` is taken: a
    4000x3000 photo decodes at 2000x1500 for a 2048 limit, four times less work than full size.
    """
    width, height = image.size
    long_side = max(width, height)
    if long_side > max_side:
        wanted = max_side * DRAFT_SLACK
        image.draft("RGB", (math.ceil(width * wanted / long_side), math.ceil(height * wanted / long_side)))
    try:
        image.load()
    except Exception as exc:  # any decoder failure means the file is not whole
        raise PhotoRejected(DAMAGED) from exc


def _shrunk_eight_bit(image: Image.Image, max_side: int) -> Image.Image:
    """The pixels as 8-bit L, RGB or CMYK, transparency over white, shrunk to ``max_side``.

    8-bit L, RGB and CMYK are resized by Pillow, which box-reduces by a whole factor first when the
    ratio allows and never copies the full image. Anything that needs converting (deep grey, alpha,
    palettes, other modes) is converted one band of rows at a time and each band shrunk at once, so
    the result matches converting everything first without holding a full-size converted copy: a
    6000x6000 float image costs its own 144 MB plus bands of a few megabytes.
    """
    width, height = image.size
    long_side = max(width, height)
    target = None
    if long_side > max_side:
        target = (max(1, round(width * max_side / long_side)), max(1, round(height * max_side / long_side)))
    if image.mode in ("L", "RGB", "CMYK") and not image.has_transparency_data:
        if target is None:
            return image
        return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)
    convert = _converter(image)
    if target is None:
        return _reduced_in_bands(image, convert, (1, 1))
    factors = (int(width / target[0] / _REDUCING_GAP) or 1, int(height / target[1] / _REDUCING_GAP) or 1)
    if factors == (1, 1):
        return _lanczos_in_bands(image, convert, target)
    # As Pillow's own reducing_gap: a box reduce by whole factors, then Lanczos over the same area.
    reduced = _reduced_in_bands(image, convert, factors)
    box = (0.0, 0.0, width / factors[0], height / factors[1])
    return reduced.resize(target, Image.Resampling.LANCZOS, box=box)


def _reduced_in_bands(
    image: Image.Image, convert: Callable[[Image.Image], Image.Image], factors: tuple[int, int]
) -> Image.Image:
    """``image`` converted band by band, each band box-reduced by ``factors`` (bands start on multiples)."""
    width, height = image.size
    x_factor, y_factor = factors
    rows = max(1, _BAND_PIXELS // width // y_factor) * y_factor
    reduced = Image.new(_converted_mode(image, convert), (-(-width // x_factor), -(-height // y_factor)))
    for top in range(0, height, rows):
        band = convert(image.crop((0, top, width, min(top + rows, height))))
        if factors != (1, 1):
            band = band.reduce(factors)
        reduced.paste(band, (0, top // y_factor))
    return reduced


def _lanczos_in_bands(
    image: Image.Image, convert: Callable[[Image.Image], Image.Image], target: tuple[int, int]
) -> Image.Image:
    """``image`` converted and Lanczos-resized to ``target`` one band of output rows at a time.

    Each band of source rows is cut with enough rows either side for the filter to reach, and
    resized over its exact share of the source, so the seams are invisible: the result is the same
    as one resize of the whole converted image.
    """
    width, height = image.size
    scale = height / target[1]
    margin = math.ceil(_LANCZOS_SUPPORT * scale) + 1
    out_rows = max(1, int(_BAND_PIXELS / width / scale))
    result = Image.new(_converted_mode(image, convert), target)
    for out_top in range(0, target[1], out_rows):
        out_bottom = min(target[1], out_top + out_rows)
        top, bottom = out_top * scale, out_bottom * scale
        first, last = max(0, math.floor(top) - margin), min(height, math.ceil(bottom) + margin)
        band = convert(image.crop((0, first, width, last)))
        size = (target[0], out_bottom - out_top)
        part = band.resize(
            size, Image.Resampling.LANCZOS, box=(0.0, top - first, float(width), bottom - first)
        )
        result.paste(part, (0, out_top))
    return result


def _converted_mode(image: Image.Image, convert: Callable[[Image.Image], Image.Image]) -> str:
    """The mode ``convert`` turns bands of ``image`` into, found on a single pixel."""
    return convert(image.crop((0, 0, 1, 1))).mode


def _converter(image: Image.Image) -> Callable[[Image.Image], Image.Image]:
    """A function turning one band of ``image`` into 8-bit L or RGB, the same way for every band."""
    if image.mode in _HIGH_DEPTH_GRAY:
        levels = _grey_levels(image)
        return lambda band: _gray_to_l(band, levels)
    if image.has_transparency_data:
        return lambda band: _over_white(band if band.mode in ("LA", "RGBA") else band.convert("RGBA"))
    mode = "L" if image.mode == "1" else "RGB"
    return lambda band: band.convert(mode)


def _grey_levels(image: Image.Image) -> tuple[float, float]:
    """Black and white levels: 16-bit grey spans 0 to 65535; wider grey is measured (see ``_grey_range``)."""
    if image.mode.startswith("I;16"):
        return 0.0, 65535.0
    if image.mode == "I":
        low, high = image.getextrema()
        return _grey_range(float(low), float(high))
    return _grey_range(*_finite_extremes(image))


def _finite_extremes(image: Image.Image) -> tuple[float, float]:
    """The smallest and largest finite values of a float image, measured band by band; 0, 0 if none."""
    width, height = image.size
    rows = max(1, _BAND_PIXELS // width)
    low, high = math.inf, -math.inf
    for top in range(0, height, rows):
        values = np.asarray(image.crop((0, top, width, min(top + rows, height))))
        finite = values[np.isfinite(values)]
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    return (low, high) if low <= high else (0.0, 0.0)


def _grey_range(low: float, high: float) -> tuple[float, float]:
    """Black and white levels: 0 to the smallest usual white (1, 255, 65535) that fits, else the extremes."""
    if low < 0 or high > _WHITE_POINTS[-1]:
        return min(low, 0.0), max(high, 0.0)
    return 0.0, next(point for point in _WHITE_POINTS if high <= point)


def _gray_to_l(band: Image.Image, levels: tuple[float, float]) -> Image.Image:
    """Scale 16-bit, 32-bit or float grey to 8 bits between ``levels`` instead of clipping.

    Float64 holds any float32 or int32 difference without overflow. Infinities land on black or
    white; NaN, which has no brightness, becomes black.
    """
    black, white = levels
    values = np.asarray(band, dtype=np.float64)
    values -= black
    values *= 255.0 / (white - black)
    values += 0.5
    np.clip(values, 0.0, 255.0, out=values)
    values[np.isnan(values)] = 0.0
    return Image.fromarray(values.astype(np.uint8), "L")


def _over_white(image: Image.Image) -> Image.Image:
    """An LA or RGBA image flattened onto a white background."""
    flat = Image.new(image.mode[:-1], image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    return flat


def _srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB in sRGB, converted through the embedded ICC profile when it is usable and not sRGB already."""
    if icc_profile and ImageCms is not None:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            if image.mode != "RGB" or "sRGB" not in ImageCms.getProfileDescription(profile):
                srgb = ImageCms.createProfile("sRGB")
                return ImageCms.profileToProfile(image, profile, srgb, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken or mismatched profile: the pixels are taken as sRGB
    return image if image.mode == "RGB" else image.convert("RGB")


def describe_size(size: int, *, round_up: bool) -> str:
    """A file size for people: "300 KB", "20.5 MB" (one decimal, rounded up or down)."""
    if size >= MB:
        return f"{_amount(size, MB, round_up=round_up)} MB"
    return f"{_amount(size, 1024, round_up=round_up)} KB"


def _amount(count: int, unit: int, *, round_up: bool) -> str:
    """``count / unit`` to one decimal (rounded up or down), without a trailing ``.0``."""
    tenths = -(-count * 10 // unit) if round_up else count * 10 // unit
    whole, tenth = divmod(tenths, 10)
    return f"{whole}.{tenth}" if tenth else str(whole)
