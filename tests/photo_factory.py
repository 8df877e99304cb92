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
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


def flat_png(width: int, height: int, pixel: bytes, *, bit_depth: int, colour_type: int) -> bytes:
    """A large PNG of one repeated ``pixel``, compressed row by row so it costs little to build.

    Colour type 0 is grey and 6 is RGBA; ``pixel`` holds the big-endian samples of one pixel.
    """
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    compressor = zlib.compressobj(1)
    parts = [compressor.compress(b"\0" + pixel * width)]  # filter None for the first row
    same_as_above = b"\2" + bytes(len(pixel) * width)  # filter Up: every byte equals the row above
    parts += [compressor.compress(same_as_above) for _ in range(height - 1)]
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# TIFF field types used below, with their struct codes.
TIFF_BYTE, TIFF_ASCII, TIFF_SHORT, TIFF_LONG, TIFF_LONG8 = 1, 2, 3, 4, 16
_TIFF_CODES = {TIFF_BYTE: "B", TIFF_ASCII: "B", TIFF_SHORT: "H", TIFF_LONG: "L", TIFF_LONG8: "Q"}


def tiff_file(
    tags: dict[int, tuple[int, Sequence[int]]], payload: bytes, *, order: str = "<", big: bool = False
) -> bytes:
    """A one-directory TIFF: ``payload`` right after the header (offset 8, or 16 for BigTIFF), then
    the values that do not fit in their entry, then the directory with ``tags`` (tag: type, values).
    """
    header_size, field, pointer = (16, 8, "Q") if big else (8, 4, "L")
    body = bytearray(payload)
    entries = []
    for tag in sorted(tags):
        kind, values = tags[tag]
        packed = struct.pack(f"{order}{len(values)}{_TIFF_CODES[kind]}", *values)
        if len(packed) <= field:
            value_field = packed.ljust(field, b"\0")
        else:
            body += bytes(len(body) % 2)  # values start on a word boundary
            value_field = struct.pack(order + pointer, header_size + len(body))
            body += packed
        entries.append(struct.pack(order + ("HHQ" if big else "HHL"), tag, kind, len(values)) + value_field)
    body += bytes(len(body) % 2)
    directory = header_size + len(body)
    header = (b"II" if order == "<" else b"MM") + struct.pack(order + "H", 43 if big else 42)
    header += struct.pack(order + "HHQ", 8, 0, directory) if big else struct.pack(order + "L", directory)
    count = struct.pack(order + ("Q" if big else "H"), len(entries))
    return header + bytes(body) + count + b"".join(entries) + bytes(field)


def strip_tiff(
    width: int,
    height: int,
    strip: bytes,
    *,
    rows_per_strip: int = 1,
    strips: int | None = None,
    bits: int = 8,
    sample_format: int = 1,
    compression: int = 1,
    offsets_type: int = TIFF_LONG,
    order: str = "<",
    big: bool = False,
    extra_tags: dict[int, tuple[int, Sequence[int]]] | None = None,
) -> bytes:
    """A grey TIFF whose every strip points at the same bytes ``strip``: large images stay small.

    ``strips`` defaults to what the height needs; giving more declares strips the image does not have.
    Sample format 1 is unsigned, 3 is float; compression 1 is none, 8 is Deflate.
    """
    count = strips if strips is not None else -(-height // rows_per_strip)
    start = 16 if big else 8
    tags = {
        256: (TIFF_LONG, [width]),
        257: (TIFF_LONG, [height]),
        258: (TIFF_SHORT, [bits]),
        259: (TIFF_SHORT, [compression]),
        262: (TIFF_SHORT, [1]),  # black is zero
        273: (offsets_type, [start] * count),
        277: (TIFF_SHORT, [1]),
        278: (TIFF_LONG, [rows_per_strip]),
        279: (offsets_type, [len(strip)] * count),
        339: (TIFF_SHORT, [sample_format]),
        **(extra_tags or {}),
    }
    return tiff_file(tags, strip, order=order, big=big)


def jpeg_with_scans(scans: int, size: int = 512) -> bytes:
    """A progressive grey JPEG with ``scans`` scans: the encoder's own, then empty AC scans.

    Each added scan is 12 bytes: one end-of-band run that covers every block of the image. The
    decoder still visits every block once per scan, so thousands of them cost seconds to decode.
    """
    base = encode(Image.linear_gradient("L").resize((size, size)), "JPEG", progressive=True, quality=50)
    own = base.count(b"\xff\xda")  # entropy-coded data never holds FF DA, and there is no metadata
    blocks = (size // 8) ** 2
    run_bits = blocks.bit_length() - 1
    assert blocks == 1 << run_bits and own <= scans, (blocks, own)
    # AC table 3 with a single one-bit code "0" for EOBn: a run of 2**n blocks, n extra bits (zero).
    table = b"\xff\xc4" + struct.pack(">HB", 20, 0x13) + bytes([1] + [0] * 15) + bytes([run_bits << 4])
    bits = "0" * (1 + run_bits)
    bits += "1" * (-len(bits) % 8)
    entropy = int(bits, 2).to_bytes(len(bits) // 8, "big")
    # One component (id 1), DC table 0 and AC table 3, coefficients 1 to 63, no successive approximation.
    scan = b"\xff\xda" + struct.pack(">HBBBBBB", 8, 1, 1, 0x03, 1, 63, 0) + entropy
    return base[:-2] + table + scan * (scans - own) + b"\xff\xd9"


def with_segment(jpeg: bytes, marker: int, payload: bytes, count: int = 1) -> bytes:
    """``jpeg`` with ``count`` copies of a ``marker`` segment holding ``payload`` right after its SOI."""
    segment = struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload
    return jpeg[:2] + segment * count + jpeg[2:]


def exif_block(entries: Sequence[tuple[int, int, int, bytes]], tail: bytes = b"") -> bytes:
    """Little-endian EXIF (TIFF structure) with one directory of raw (tag, type, count, value field)
    entries, then ``tail``; offsets in the entries may point anywhere, even past the end."""
    directory = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHL", tag, kind, count) + value.ljust(4, b"\0") for tag, kind, count, value in entries
    )
    return b"II*\0" + struct.pack("<L", 8) + directory + bytes(4) + tail


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
