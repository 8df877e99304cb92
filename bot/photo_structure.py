"""A photo's structure read by hand, before any decoder sees it: JPEG markers, TIFF and EXIF directories.

Pillow's parsers for these can be made slow or hungry by a small hostile file, and its EXIF reader
warns about damage; these readers are linear, bounded, and raise instead.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping

_ORIENTATION = 274
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(="|>)([0-9])')

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
UNREADABLE = (struct.error, ValueError)

_Directory = dict[int, tuple[int, int, bytes]]  # tag: (field type, value count, value or offset field)


class TooComplex(Exception):
    """Built with far more scans, segments, entries or values than a photo needs."""


def screened_jpeg(data: bytes) -> tuple[bytes, bytes | None]:
    """The JPEG without its EXIF and multi-picture segments, and its EXIF; ``TooComplex`` if oddly built.

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
            raise TooComplex(f"{scans} scans, {segments} segments")
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


def tiff_size(data: bytes) -> tuple[int | None, int | None]:
    """Width and height of a TIFF's first image, read the way Pillow reads its directories.

    Raises ``TooComplex`` for a directory with more than ``_TIFF_MAX_ENTRIES`` entries or an entry
    with more than ``_TIFF_MAX_VALUES`` numeric values (millions of strips), and one of
    ``UNREADABLE`` for a directory or value that lies past the end of the file (Pillow would warn).
    """
    order, big, offset = _tiff_header(data)
    first = _checked_directory(data, order, big, offset)
    exif = _checked_sub_directory(data, order, big, first, _EXIF_IFD)
    _checked_sub_directory(data, order, big, first, _GPS_IFD)
    if _INTEROP_IFD in first and exif is not None:
        _checked_sub_directory(data, order, big, exif, _INTEROP_IFD)
    return _tiff_scalar(first.get(_WIDTH), order), _tiff_scalar(first.get(_HEIGHT), order)


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
        raise TooComplex(f"{count} directory entries")
    start, size = offset + struct.calcsize(order + count_format), struct.calcsize(order + entry_format)
    entries = [struct.unpack_from(order + entry_format, data, start + i * size) for i in range(count)]
    struct.unpack_from(order + next_format, data, start + count * size)
    return entries


def _checked_directory(data: bytes, order: str, big: bool, offset: int) -> _Directory:
    """The directory at ``offset`` by tag (the first entry for a tag wins, as in Pillow).

    Raises ``TooComplex`` for an entry with too many numeric values and ``ValueError`` for values
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
            raise TooComplex(f"{count} values in tag {tag}")
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


def orientation(info: Mapping[str, object], jpeg_exif: bytes | None) -> int | None:
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
    except (*UNREADABLE, TooComplex):
        return None
    for tag, kind, count, value in entries:
        if tag == _ORIENTATION:
            return _tiff_scalar((kind, count, value), order)
    return None
