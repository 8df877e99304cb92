"""Builders for the photo files the intake tests feed in, all made in code."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence

import pillow_heif
from PIL import ExifTags, Image

pillow_heif.register_heif_opener()

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)

D50 = (0.9642, 1.0, 0.8249)
# Display P3 primaries adapted to D50, as in Apple's Display P3 profile.
DISPLAY_P3_PRIMARIES = ((0.5151, 0.2412, -0.0011), (0.2919, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    """``image`` saved as ``fmt`` with Pillow (or pillow-heif for HEIF)."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def quadrants(size: tuple[int, int], colors: Sequence[tuple[int, ...]], mode: str = "RGB") -> Image.Image:
    """An image split into four flat quadrants: top-left, top-right, bottom-left, bottom-right."""
    width, height = size
    image = Image.new(mode, size)
    boxes = [
        (0, 0, width // 2, height // 2),
        (width // 2, 0, width, height // 2),
        (0, height // 2, width // 2, height),
        (width // 2, height // 2, width, height),
    ]
    for box, color in zip(boxes, colors, strict=True):
        image.paste(color, box)
    return image


def quadrant_centres(size: tuple[int, int]) -> list[tuple[int, int]]:
    """The centre pixel of each quadrant, in the order used by :func:`quadrants`."""
    width, height = size
    return [(x, y) for y in (height // 4, 3 * height // 4) for x in (width // 4, 3 * width // 4)]


def gps_exif(orientation: int | None = None) -> Image.Exif:
    """EXIF with a camera model, a GPS position and optionally an orientation."""
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Figurebot Test Camera"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 29.6)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.2)
    return exif


def xmp_packet() -> bytes:
    """A small XMP packet naming a creator."""
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Jane Doe"/>'
        b"</rdf:RDF></x:xmpmeta>"
    )


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` grey pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def animated_gif(colors: Sequence[tuple[int, int, int]], size: tuple[int, int] = (300, 300)) -> bytes:
    """A looping GIF with one flat frame per colour."""
    frames = [Image.new("RGB", size, color) for color in colors]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def matrix_rgb_profile(primaries: Sequence[tuple[float, float, float]], gamma: float, name: str) -> bytes:
    """A minimal ICC v2 monitor profile: three XYZ primaries and one gamma curve."""
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))
    tags = {b"desc": _text_description(name), b"wtpt": _xyz(D50)}
    for channel, primary in zip((b"r", b"g", b"b"), primaries, strict=True):
        tags[channel + b"XYZ"] = _xyz(primary)
        tags[channel + b"TRC"] = curve
    return _icc_profile(b"mntr", b"RGB ", b"XYZ ", tags)


def flat_green_cmyk_profile() -> bytes:
    """An ICC v2 printer profile that maps every CMYK value to the same green.

    Whatever ink values an image holds, converting through this profile gives green, which makes
    it obvious whether a converter used the profile or ignored it.
    """
    pcs = bytes((153, 68, 178))  # Lab about (60, -60, 50) in the 8-bit encoding
    ramp = bytes(range(256))
    lut = (
        b"mft1"
        + bytes(4)
        + bytes((4, 3, 2, 0))
        + b"".join(_s15f16(1.0 if row == col else 0.0) for row in range(3) for col in range(3))
        + ramp * 4
        + pcs * 2**4
        + ramp * 3
    )
    tags = {b"desc": _text_description("Flat CMYK"), b"wtpt": _xyz(D50), b"A2B0": lut}
    return _icc_profile(b"prtr", b"CMYK", b"Lab ", tags)


def _icc_profile(device_class: bytes, colour_space: bytes, pcs: bytes, tags: dict[bytes, bytes]) -> bytes:
    table_size = 4 + 12 * len(tags)
    entries, body = [], b""
    for signature, data in tags.items():
        entries.append(struct.pack(">4sII", signature, 128 + table_size + len(body), len(data)))
        body += data + bytes(-len(data) % 4)
    size = 128 + table_size + len(body)
    header = (
        struct.pack(">I4sI4s4s4s", size, b"none", 0x02100000, device_class, colour_space, pcs)
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)
        + b"".join(_s15f16(value) for value in D50)
        + bytes(4 + 16 + 28)
    )
    return header + struct.pack(">I", len(tags)) + b"".join(entries) + body


def _s15f16(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(value: Sequence[float]) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15f16(part) for part in value)


def _text_description(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_text)) + ascii_text + bytes(4 + 4 + 2 + 1 + 67)
