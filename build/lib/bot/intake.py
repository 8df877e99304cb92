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
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import pillow_heif
from PIL import Image, ImageFile

from bot.config import MB, Settings
from bot.errors import UserFacingError

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
_ORIENTATION = 274
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(="|>)([0-9])')
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

# JPEG: the decoder makes one pass over every block of the image per scan. Encoders write about 10
# scans; thousands of tiny scans would cost minutes. A real file has a few dozen segments at most
# (ICC profiles and extended XMP are split into at most a few hundred 64 KB pieces).
_MAX_JPEG_SCANS = 100
_MAX_JPEG_SEGMENTS = 1000
# A marker: 0xFF, then a code that is not a stuffed zero, a fill byte, TEM or a restart marker (the
# decoder passes over those inside and between segments, so they are skipped here too).
_JPEG_MARKER = re.compile(rb"\xff[^\x00\x01\xd0-\xd7\xff]")
_SOI, _EOI, _SOS, _APP1, _APP2 = 0xD8, 0xD9, 0xDA, 0xE1, 0xE2

# TIFF: Pillow keeps every strip or tile as a Python object and unpacks a directory's numeric values
# into tuples, all before any pixel limit applies. A 40 MP photo written one row per strip has a few
# thousand strips; 65,536 allows a 65,536-row photo, while millions would take gigabytes to parse.
_TIFF_PREFIXES = (b"MM\x00\x2a", b"II\x2a\x00", b"MM\x2a\x00", b"II\x00\x2a", b"MM\x00\x2b", b"II\x2b\x00")
_TIFF_MAX_ENTRIES = 1000
_TIFF_MAX_VALUES = 65_536
# Bytes per value of each field type Pillow reads; it skips entries of any other type.
_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
_TIFF_BYTE_TYPES = frozenset((1, 2, 6, 7))  # kept as bytes or text, never unpacked value by value
_TIFF_SCALARS = {3: "H", 4: "L", 8: "h", 9: "l", 13: "L", 16: "Q"}
_WIDTH, _HEIGHT = 256, 257
_EXIF_IFD, _GPS_IFD, _INTEROP_IFD = 34665, 34853, 40965
# What reading a TIFF structure by hand raises when the bytes are not one.
_UNREADABLE = (struct.error, ValueError)

_Directory = dict[int, tuple[int, int, bytes]]  # tag: (field type, value count, value or offset field)


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
        turn = None if source_format == "TIFF" else _UPRIGHT.get(_orientation(image.info, exif))
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
    if len(data) > limits.max_bytes:
        raise PhotoRejected(
            f"That file is {describe_size(len(data), round_up=True)}; "
            f"the limit is {describe_size(limits.max_bytes, round_up=False)}."
        )
    return data


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
        if fmt == "JPEG":
            source, exif = _screened_jpeg(data)
        elif fmt == "TIFF":
            _screen_tiff(data, limits)
        try:
            return fmt, factory(io.BytesIO(source), ""), exif
        except Exception as exc:  # a recognised signature with an unreadable header
            failure = exc
    if failure is not None:
        raise PhotoRejected(DAMAGED) from failure
    raise PhotoRejected(NOT_A_PHOTO)


def _screened_jpeg(data: bytes) -> tuple[bytes, bytes | None]:
    """The JPEG without its EXIF and multi-picture segments, and its EXIF; refused if oddly built.

    Walks the markers up to the end of the first image the way the decoder finds them, skipping
    segments by their length and entropy-coded data by searching for the next marker, and stops as
    soon as there are too many scans or segments. EXIF is kept away from Pillow, whose parser warns
    about damaged EXIF (the orientation is read from it here instead), and so is the multi-picture
    index, which would make Pillow parse the other pictures' directory for nothing.
    """
    scans = segments = 0
    exif: list[bytes] = []
    dropped: list[tuple[int, int]] = []
    position = 2
    while (marker := _JPEG_MARKER.search(data, position)) is not None:
        code = data[marker.start() + 1]
        if code == _EOI:
            break
        position = marker.end()
        if code == _SOI:  # no length; the decoder refuses a second one anyway
            continue
        segments += 1
        scans += code == _SOS
        if scans > _MAX_JPEG_SCANS or segments > _MAX_JPEG_SEGMENTS:
            raise PhotoRejected(UNUSUAL)
        end = position + max(2, int.from_bytes(data[position : position + 2], "big"))
        if code == _APP1 and data.startswith(b"Exif\0\0", position + 2):
            exif.append(data[position + 2 if not exif else position + 8 : end])  # as Pillow joins them
            dropped.append((marker.start(), end))
        elif code == _APP2 and data.startswith(b"MPF\0", position + 2):
            dropped.append((marker.start(), end))
        position = end
    if not dropped:
        return data, None
    kept, start = [], 0
    for segment_start, segment_end in dropped:
        kept.append(data[start:segment_start])
        start = segment_end
    kept.append(data[start:])
    return b"".join(kept), b"".join(exif) or None


def _screen_tiff(data: bytes, limits: IntakeLimits) -> None:
    """Read the directories Pillow reads (with ``struct``) and refuse what it should not parse.

    Refused as unusual: a directory with more than ``_TIFF_MAX_ENTRIES`` entries or an entry with
    more than ``_TIFF_MAX_VALUES`` numeric values (millions of strips). Refused as damaged: a
    directory or value that lies past the end of the file, which Pillow would warn about. Refused
    with the pixel-limit message: a first image over ``limits.max_pixels``.
    """
    try:
        order, big, offset = _tiff_header(data)
        first = _checked_directory(data, order, big, offset)
        exif = _checked_sub_directory(data, order, big, first, _EXIF_IFD)
        _checked_sub_directory(data, order, big, first, _GPS_IFD)
        if _INTEROP_IFD in first and exif is not None:
            _checked_sub_directory(data, order, big, exif, _INTEROP_IFD)
        width, height = _tiff_scalar(first.get(_WIDTH), order), _tiff_scalar(first.get(_HEIGHT), order)
    except _TooComplex as exc:
        raise PhotoRejected(UNUSUAL) from exc
    except _UNREADABLE as exc:
        raise PhotoRejected(DAMAGED) from exc
    if width is not None and height is not None:
        _check_pixels(width * height, limits)


class _TooComplex(Exception):
    """A TIFF directory with more entries or values than a photo needs."""


def _tiff_header(data: bytes) -> tuple[str, bool, int]:
    """Byte order, whether it is a BigTIFF, and where the first directory is, read as Pillow reads them."""
    if not data.startswith(_TIFF_PREFIXES):
        raise ValueError("not a TIFF structure")
    order = ">" if data.startswith(b"MM") else "<"
    big = data[2] == 0x2B
    (offset,) = struct.unpack_from(order + ("Q" if big else "L"), data, 8 if big else 4)
    return order, big, offset


def _tiff_entries(data: bytes, order: str, big: bool, offset: int) -> list[tuple[int, ...]]:
    """The (tag, type, count, value field) entries of the directory at ``offset``.

    The pointer to the next directory must be there too: Pillow reads it and warns when it is not.
    """
    count_format, entry_format, next_format = ("Q", "HHQ8s", "Q") if big else ("H", "HHL4s", "L")
    if offset < 0:
        raise ValueError("negative directory offset")
    (count,) = struct.unpack_from(order + count_format, data, offset)
    if count > _TIFF_MAX_ENTRIES:
        raise _TooComplex(f"{count} directory entries")
    start, size = offset + struct.calcsize(order + count_format), struct.calcsize(order + entry_format)
    entries = [struct.unpack_from(order + entry_format, data, start + i * size) for i in range(count)]
    struct.unpack_from(order + next_format, data, start + count * size)
    return entries


def _checked_directory(data: bytes, order: str, big: bool, offset: int) -> _Directory:
    """The directory at ``offset`` by tag (the first entry for a tag wins, as in Pillow).

    Raises ``_TooComplex`` for an entry with too many numeric values and ``ValueError`` for values
    outside the file, including values that only fit by overlapping (Pillow budgets them as well).
    """
    field = 8 if big else 4
    entries = _tiff_entries(data, order, big, offset)
    directory: _Directory = {}
    external = 0
    for tag, kind, count, value in entries:
        unit = _TIFF_TYPE_SIZES.get(kind)
        if tag in directory or unit is None or count == 0:
            continue
        if count > _TIFF_MAX_VALUES and kind not in _TIFF_BYTE_TYPES:
            raise _TooComplex(f"{count} values in tag {tag}")
        size = unit * count
        if size > field:
            (where,) = struct.unpack_from(order + ("Q" if big else "L"), value)
            external += size
            if where + size > len(data) or external > len(data):
                raise ValueError(f"tag {tag} lies past the end of the file")
        directory[tag] = (kind, count, value)
    return directory


def _checked_sub_directory(
    data: bytes, order: str, big: bool, parent: _Directory, tag: int
) -> _Directory | None:
    """The directory that ``parent``'s ``tag`` points at, checked; ``None`` when there is no pointer."""
    offset = _tiff_scalar(parent.get(tag), order)
    return None if offset is None else _checked_directory(data, order, big, offset)


def _tiff_scalar(entry: tuple[int, int, bytes] | None, order: str) -> int | None:
    """The value of a single-integer entry, else ``None``."""
    if entry is None:
        return None
    kind, count, value = entry
    if count != 1 or kind not in _TIFF_SCALARS:
        return None
    return struct.unpack_from(order + _TIFF_SCALARS[kind], value)[0]


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


def _orientation(info: Mapping[str, object], jpeg_exif: bytes | None) -> int | None:
    """The EXIF orientation, else the XMP one, read by hand: Pillow's EXIF parser warns on damage."""
    exif = jpeg_exif or info.get("exif") or _raw_profile_exif(info)
    if isinstance(exif, bytes) and (orientation := _exif_orientation(exif)) is not None:
        return orientation
    xmp = info.get("XML:com.adobe.xmp") or info.get("xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    if isinstance(xmp, bytes) and (match := _XMP_ORIENTATION.search(xmp)):
        return int(match[2])
    return None


def _raw_profile_exif(info: Mapping[str, object]) -> bytes | None:
    """EXIF kept as hexadecimal text in a PNG (as ImageMagick writes it)."""
    text = info.get("Raw profile type exif")
    if not isinstance(text, str):
        return None
    try:
        return bytes.fromhex("".join(text.split("\n")[3:]))
    except ValueError:
        return None


def _exif_orientation(exif: bytes) -> int | None:
    """The orientation tag of the first EXIF directory; ``None`` if it is missing or unreadable."""
    for _ in range(2):  # Pillow accepts the "Exif" prefix written twice
        exif = exif.removeprefix(b"Exif\0\0")
    try:
        order, big, offset = _tiff_header(exif)
        entries = _tiff_entries(exif, order, big, offset)
    except (*_UNREADABLE, _TooComplex):
        return None
    for tag, kind, count, value in entries:
        if tag == _ORIENTATION:
            return _tiff_scalar((kind, count, value), order)
    return None


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
