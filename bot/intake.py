"""Photo intake: uploaded bytes become a clean, upright sRGB image, or one friendly refusal.

Every limit is checked as early as it can be: the file size before parsing, the pixel count from the
header before any pixel is decoded. The returned image is rebuilt from pixels, so no EXIF (GPS), XMP,
IPTC, comment, thumbnail or ICC profile of the upload survives.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageFile

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
    source_format, image = _identify(data)
    _check_dimensions(image.size, limits)
    _decode(image, limits.max_side)
    turn = _upright_transpose(image)
    rgb = _srgb(_downscale(_eight_bit(image), limits.max_side), image.info.get("icc_profile"))
    if turn is not None:
        rgb = rgb.transpose(turn)
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
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
            f"That file is {_file_size(len(data), round_up=True)}; "
            f"the limit is {_file_size(limits.max_bytes, round_up=False)}."
        )
    return data


@cache
def _openers() -> dict[str, tuple[Callable[..., ImageFile.ImageFile], Callable[[bytes], bool | str]]]:
    """Pillow's header parsers for the accepted formats, with HEIF registered once."""
    pillow_heif.register_heif_opener()
    Image.init()
    return {fmt: Image.OPEN[fmt] for fmt in _FORMATS if fmt in Image.OPEN}


def _identify(data: bytes) -> tuple[str, ImageFile.ImageFile]:
    """Parse the header only.

    Pillow's own parsers are called directly rather than through ``Image.open`` so that its
    decompression-bomb warning or error never preempts the pixel limit checked next.
    """
    prefix = data[:16]
    failure: Exception | None = None
    for fmt, (factory, accept) in _openers().items():
        recognised = accept(prefix)
        if not recognised or isinstance(recognised, str):  # a string explains why it is not this format
            continue
        try:
            return fmt, factory(io.BytesIO(data), "")
        except Exception as exc:  # a recognised signature with an unreadable header
            failure = exc
    if failure is not None:
        raise PhotoRejected(DAMAGED) from failure
    raise PhotoRejected(NOT_A_PHOTO)


def _check_dimensions(size: tuple[int, int], limits: IntakeLimits) -> None:
    width, height = size
    if width * height > limits.max_pixels:
        raise PhotoRejected(
            f"That image is {_amount(width * height, 1_000_000, round_up=True)} megapixels; "
            f"the limit is {_amount(limits.max_pixels, 1_000_000, round_up=False)} megapixels."
        )
    if min(width, height) < limits.min_side:
        raise PhotoRejected(
            f"That photo is {width}x{height} pixels; "
            f"it needs to be at least {limits.min_side} pixels on each side."
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


def _upright_transpose(image: Image.Image) -> Image.Transpose | None:
    """The transpose that applies the EXIF (or XMP) orientation; a corrupt EXIF block counts as upright."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation)
    except Exception:
        return None
    return _UPRIGHT.get(orientation)


def _eight_bit(image: Image.Image) -> Image.Image:
    """The pixels as 8-bit L, RGB or CMYK, with any transparency composited over white."""
    if image.mode in _HIGH_DEPTH_GRAY:
        return _gray_to_l(image)
    if image.has_transparency_data:
        return _over_white(image if image.mode in ("LA", "RGBA") else image.convert("RGBA"))
    if image.mode in ("L", "RGB", "CMYK"):
        return image
    return image.convert("L" if image.mode == "1" else "RGB")


def _gray_to_l(image: Image.Image) -> Image.Image:
    """Scale 16-bit, 32-bit or float grey to 8 bits from its white point instead of clipping."""
    values = np.asarray(image, dtype=np.float32)
    black, white = (0.0, 65535.0) if image.mode.startswith("I;16") else _grey_range(values)
    scaled = (values - black) * (255.0 / (white - black)) + 0.5
    return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), "L")


def _grey_range(values: np.ndarray) -> tuple[float, float]:
    """Black and white levels: 0 to the smallest usual white (1, 255, 65535) that fits, else the extremes."""
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > _WHITE_POINTS[-1]:
        return min(low, 0.0), max(high, 0.0)
    return 0.0, next(point for point in _WHITE_POINTS if high <= point)


def _over_white(image: Image.Image) -> Image.Image:
    """An LA or RGBA image flattened onto a white background."""
    flat = Image.new(image.mode[:-1], image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    return flat


def _downscale(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink so the long side is ``max_side``: Lanczos, with a fast box reduce first for huge images."""
    width, height = image.size
    long_side = max(width, height)
    if long_side <= max_side:
        return image
    target = (max(1, round(width * max_side / long_side)), max(1, round(height * max_side / long_side)))
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


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


def _file_size(size: int, *, round_up: bool) -> str:
    if size >= MB:
        return f"{_amount(size, MB, round_up=round_up)} MB"
    return f"{_amount(size, 1024, round_up=round_up)} KB"


def _amount(count: int, unit: int, *, round_up: bool) -> str:
    """``count / unit`` to one decimal (rounded up or down), without a trailing ``.0``."""
    tenths = -(-count * 10 // unit) if round_up else count * 10 // unit
    whole, tenth = divmod(tenths, 10)
    return f"{whole}.{tenth}" if tenth else str(whole)
