"""Photo intake: every accepted format, every mode, metadata removal, and every refusal."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import warnings
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, JpegImagePlugin, PngImagePlugin, TiffImagePlugin

from bot.config import MB, Settings
from bot.errors import UserFacingError
from bot.intake import IntakeLimits, Photo, PhotoRejected, accept_photo
from tests.photo_factory import (
    BLUE,
    DISPLAY_P3_PRIMARIES,
    GREEN,
    RED,
    TIFF_ASCII,
    TIFF_SHORT,
    WHITE,
    animated_gif,
    encode,
    exif_block,
    flat_green_cmyk_profile,
    flat_png,
    gps_exif,
    jpeg_with_scans,
    matrix_rgb_profile,
    png_declaring,
    quadrant_centres,
    quadrants,
    strip_tiff,
    with_segment,
    xmp_packet,
)

ROOT = Path(__file__).resolve().parents[1]
ASTRONAUT = ROOT / "examples" / "astronaut.png"
SEND = "Send a JPEG, PNG, WebP, HEIC, AVIF, GIF or TIFF image."
NOT_A_PHOTO = f"That file is not a photo I can read. {SEND}"
DAMAGED = "That photo looks damaged or incomplete; please send it again."
UNUSUAL = "That photo is built in an unusual way I can't safely read; please send it as a normal JPEG or PNG."
LIBRARY_WORDS = ("PIL", "Pillow", "Traceback", "cannot identify", "Error", "error", "heif_")
COLOURS = (RED, GREEN, BLUE, WHITE)


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    with Image.open(ASTRONAUT) as image:
        return image.convert("RGB")


def refusal(data: object, limits: IntakeLimits | None = None) -> str:
    """The message ``accept_photo`` refuses ``data`` with, checked to read as plain language."""
    with pytest.raises(PhotoRejected) as caught:
        accept_photo(data, limits)  # type: ignore[arg-type]
    message = str(caught.value)
    assert isinstance(caught.value, UserFacingError)
    assert not any(word in message for word in LIBRARY_WORDS), message
    assert message.endswith("."), message
    return message


def assert_close(actual: Sequence[int], expected: Sequence[int], tolerance: int = 10) -> None:
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (actual, expected)


def assert_quadrants(
    image: Image.Image, colours: Sequence[tuple[int, int, int]], tolerance: int = 12
) -> None:
    for point, colour in zip(quadrant_centres(image.size), colours, strict=True):
        assert_close(image.getpixel(point), colour, tolerance)


def assert_metadata_free(photo: Photo, *markers: bytes) -> None:
    """Neither the image nor any encoding of it carries metadata or the given telltale bytes."""
    assert photo.image.mode == "RGB"
    assert photo.image.info == {}
    assert not photo.image.getexif()
    for fmt in ("PNG", "JPEG", "WEBP"):
        data = photo.encode(fmt)
        for marker in (b"Exif", b"EXIF", b"eXIf", b"xmpmeta", b"XMP ", b"ICC_PROFILE", b"iCCP", *markers):
            assert marker not in data, (fmt, marker)
        with Image.open(io.BytesIO(data)) as encoded:
            assert not encoded.getexif()
            assert not encoded.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            assert not {"exif", "xmp", "icc_profile", "comment"} & encoded.info.keys()


@contextmanager
def quietly() -> Iterator[None]:
    """Fails the test if anything inside warns, even a warning that some code catches and ignores."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The formats whose Pillow header parser ran, recorded for JPEG and TIFF."""
    calls: list[str] = []
    for plugin in (JpegImagePlugin.JpegImageFile, TiffImagePlugin.TiffImageFile):

        def recording_open(self: Image.Image, real=plugin._open) -> None:
            calls.append(str(self.format))
            real(self)

        monkeypatch.setattr(plugin, "_open", recording_open)
    return calls


def gps_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


# Accepted formats


def test_jpeg_photo_becomes_clean_rgb(astronaut: Image.Image) -> None:
    photo = accept_photo(encode(astronaut, "JPEG", quality=95))
    assert photo.source_format == "JPEG"
    assert (photo.width, photo.height) == (512, 512)
    assert photo.image.mode == "RGB"
    assert photo.image.info == {}
    assert_close(photo.image.getpixel((256, 200)), astronaut.getpixel((256, 200)))


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("JPEG", {"quality": 95}),
        ("PNG", {}),
        ("WEBP", {"quality": 95}),
        ("AVIF", {"quality": 95}),
        ("HEIF", {"quality": 95}),
        ("TIFF", {"compression": "tiff_lzw"}),
        ("TIFF", {"compression": "tiff_lzw", "big_tiff": True}),
        ("GIF", {}),
    ],
)
def test_every_supported_format_decodes_to_the_same_picture(fmt: str, options: dict[str, object]) -> None:
    data = encode(quadrants((320, 288), COLOURS), fmt, **options)
    photo = accept_photo(data)
    assert photo.source_format == fmt
    assert photo.image.size == (320, 288)
    assert photo.image.mode == "RGB"
    assert photo.image.info == {}
    assert_quadrants(photo.image, COLOURS)


def test_multi_picture_jpeg_is_read_as_jpeg() -> None:
    second_picture = Image.new("RGB", (320, 288))
    data = encode(quadrants((320, 288), COLOURS), "MPO", save_all=True, append_images=[second_picture])
    with Image.open(io.BytesIO(data)) as original:
        assert original.format == "MPO"
    photo = accept_photo(data)
    assert photo.source_format == "JPEG"
    assert_quadrants(photo.image, COLOURS)


@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_bytes_like_uploads_are_accepted(wrap: type, astronaut: Image.Image) -> None:
    photo = accept_photo(wrap(encode(astronaut, "PNG")))
    assert photo.image.size == (512, 512)


def test_animated_gif_uses_its_first_frame() -> None:
    data = animated_gif([RED, BLUE, GREEN])
    with Image.open(io.BytesIO(data)) as original:
        assert original.n_frames == 3
    photo = accept_photo(data)
    assert photo.source_format == "GIF"
    assert photo.image.getpixel((150, 150)) == RED


# Colour modes


def test_cmyk_jpeg_without_profile_is_converted_plainly() -> None:
    data = encode(Image.new("CMYK", (300, 300), (0, 255, 255, 0)), "JPEG", quality=95)
    with Image.open(io.BytesIO(data)) as original:
        assert original.mode == "CMYK"
        assert "icc_profile" not in original.info
    assert_close(accept_photo(data).image.getpixel((150, 150)), RED)


def test_cmyk_jpeg_with_profile_is_converted_through_it() -> None:
    profile = flat_green_cmyk_profile()
    data = encode(Image.new("CMYK", (300, 300), (0, 255, 255, 0)), "JPEG", quality=95, icc_profile=profile)
    with Image.open(io.BytesIO(data)) as original:
        assert original.mode == "CMYK"
        assert original.info["icc_profile"] == profile
    photo = accept_photo(data)
    red, green, blue = photo.image.getpixel((150, 150))
    assert green > red + 60 and green > blue + 60  # the profile's green, not the plain conversion's red
    assert_metadata_free(photo)


def test_display_p3_photo_is_converted_to_srgb() -> None:
    profile = matrix_rgb_profile(DISPLAY_P3_PRIMARIES, 2.2, "Display P3")
    photo = accept_photo(encode(Image.new("RGB", (300, 300), (180, 60, 60)), "PNG", icc_profile=profile))
    red, green, blue = photo.image.getpixel((150, 150))
    # P3 red is beyond sRGB red: the same numbers become a more saturated red in sRGB.
    assert red >= 190 and green <= 50 and blue <= 56, (red, green, blue)
    assert_metadata_free(photo)


def test_srgb_profile_and_broken_profile_leave_pixels_unchanged() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for profile in (srgb, b"not an ICC profile at all"):
        data = encode(Image.new("RGB", (300, 300), (180, 60, 60)), "PNG", icc_profile=profile)
        assert accept_photo(data).image.getpixel((150, 150)) == (180, 60, 60)


def test_16_bit_png_is_scaled_to_8_bits_not_clipped() -> None:
    values = np.zeros((300, 400), dtype=np.uint16)
    values[:, :200] = 1000
    values[:, 200:] = 40000
    data = encode(Image.fromarray(values), "PNG")
    with Image.open(io.BytesIO(data)) as original:
        assert original.mode == "I;16"
    photo = accept_photo(data)
    assert photo.image.getpixel((100, 150)) == (4, 4, 4)  # 1000 / 257
    assert photo.image.getpixel((300, 150)) == (156, 156, 156)  # 40000 / 257


def test_palette_png_transparency_becomes_white() -> None:
    image = Image.new("P", (300, 300), 0)
    image.putpalette([*RED, *BLUE])
    image.paste(1, (150, 0, 300, 300))
    data = encode(image, "PNG", transparency=0)
    with Image.open(io.BytesIO(data)) as original:
        assert original.mode == "P"
        assert original.info["transparency"] == 0
    photo = accept_photo(data)
    assert photo.image.getpixel((50, 150)) == WHITE
    assert photo.image.getpixel((250, 150)) == BLUE


@pytest.mark.parametrize(
    ("mode", "colour", "expected"),
    [
        ("RGBA", (255, 0, 0, 128), (255, 127, 127)),
        ("RGBA", (0, 0, 0, 0), WHITE),
        ("LA", (0, 128), (127, 127, 127)),
    ],
)
def test_alpha_is_composited_over_white(
    mode: str, colour: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    photo = accept_photo(encode(Image.new(mode, (300, 300), colour), "PNG"))
    assert_close(photo.image.getpixel((150, 150)), expected, tolerance=1)


@pytest.mark.parametrize(
    ("mode", "value", "fmt", "expected"),
    [
        ("L", 100, "PNG", 100),
        ("1", 1, "PNG", 255),
        ("I", 200, "TIFF", 200),  # 8-bit values stored wide
        ("I", 30000, "TIFF", 117),  # 16-bit values: 30000 / 257
        ("F", 0.5, "TIFF", 128),  # unit floats
        ("F", 1000.0, "TIFF", 4),  # floats on a 16-bit scale
        ("I", 70000, "TIFF", 255),  # beyond 16 bits: stretched from 0 to its maximum
        ("I", -70000, "TIFF", 0),
    ],
)
def test_grey_modes_become_rgb(mode: str, value: float, fmt: str, expected: int) -> None:
    data = encode(Image.new(mode, (300, 300), value), fmt)
    with Image.open(io.BytesIO(data)) as original:
        assert original.mode == mode
    assert accept_photo(data).image.getpixel((150, 150)) == (expected, expected, expected)


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (np.nan, 0),  # no brightness at all: black
        (np.inf, 255),  # brighter than any white
        (-np.inf, 0),
        (3.0e38, 255),  # finite but huge: the scale runs from 0 to it, 0.5 becomes black
    ],
)
def test_float_tiff_with_non_finite_values_is_scaled_by_its_finite_values(
    other: float, expected: int
) -> None:
    values = np.full((300, 400), 0.5, dtype=np.float32)
    values[:, 200:] = other
    data = encode(Image.fromarray(values), "TIFF")
    with quietly():
        photo = accept_photo(data)
    left = 0 if other == 3.0e38 else 128  # 0.5 on the unit scale, which the finite values fit
    assert photo.image.getpixel((100, 150)) == (left, left, left)
    assert photo.image.getpixel((300, 150)) == (expected, expected, expected)


@pytest.mark.parametrize("fill", [np.nan, np.inf, -np.inf])
def test_float_tiff_without_a_finite_value_is_accepted_quietly(fill: float) -> None:
    data = encode(Image.fromarray(np.full((300, 300), fill, dtype=np.float32)), "TIFF")
    with quietly():
        photo = accept_photo(data)
    shade = 255 if fill == np.inf else 0
    assert photo.image.getextrema() == ((shade, shade),) * 3


# Orientation


@pytest.mark.parametrize(
    ("fmt", "orientation", "size", "upright_colours"),
    [
        ("JPEG", 6, (300, 400), (BLUE, RED, WHITE, GREEN)),
        ("JPEG", 8, (300, 400), (GREEN, WHITE, RED, BLUE)),
        ("JPEG", 3, (400, 300), (WHITE, BLUE, GREEN, RED)),
        ("PNG", 6, (300, 400), (BLUE, RED, WHITE, GREEN)),
        ("WEBP", 8, (300, 400), (GREEN, WHITE, RED, BLUE)),
        ("AVIF", 6, (300, 400), (BLUE, RED, WHITE, GREEN)),
    ],
)
def test_exif_orientation_is_applied(
    fmt: str, orientation: int, size: tuple[int, int], upright_colours: Sequence[tuple[int, int, int]]
) -> None:
    data = encode(quadrants((400, 300), COLOURS), fmt, quality=95, exif=gps_exif(orientation))
    with Image.open(io.BytesIO(data)) as original:
        assert original.size == (400, 300)
        assert original.getexif()[ExifTags.Base.Orientation] == orientation
    photo = accept_photo(data)
    assert photo.image.size == size
    assert_quadrants(photo.image, upright_colours)
    assert not photo.image.getexif()


XMP_ROTATED = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_xmp_orientation_is_applied_without_exif(fmt: str) -> None:
    data = encode(quadrants((400, 300), COLOURS), fmt, quality=95, xmp=XMP_ROTATED)
    photo = accept_photo(data)
    assert photo.image.size == (300, 400)
    assert_quadrants(photo.image, (BLUE, RED, WHITE, GREEN))


def test_exif_written_as_png_text_is_read_for_orientation() -> None:
    exif = exif_block([(274, TIFF_SHORT, 1, struct.pack("<H", 6))])
    text = PngImagePlugin.PngInfo()
    text.add_text("Raw profile type exif", f"\nexif\n{len(exif):8d}\n{exif.hex()}\n")
    photo = accept_photo(encode(quadrants((400, 300), COLOURS), "PNG", pnginfo=text))
    assert photo.image.size == (300, 400)
    assert_quadrants(photo.image, (BLUE, RED, WHITE, GREEN))


DAMAGED_EXIF = {
    # The orientation is fine; the camera model claims 200 bytes far past the end of the block.
    "dangling-tag": exif_block(
        [(274, TIFF_SHORT, 1, struct.pack("<H", 6)), (0x0110, TIFF_ASCII, 200, struct.pack("<L", 5000))]
    ),
    # A directory of 65,535 entries in a block of a few bytes (garbage after a valid header).
    "garbage": b"II*\0\x08\0\0\0\xff\xff" + bytes(range(7, 40)),
}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("damage", DAMAGED_EXIF)
def test_damaged_exif_is_ignored_quietly(fmt: str, damage: str) -> None:
    data = encode(quadrants((400, 300), COLOURS), fmt, quality=95, exif=b"Exif\0\0" + DAMAGED_EXIF[damage])
    with quietly():
        photo = accept_photo(data)
    if damage == "dangling-tag":
        assert photo.image.size == (300, 400)  # the orientation was still read
        assert_quadrants(photo.image, (BLUE, RED, WHITE, GREEN))
    else:
        assert photo.image.size == (400, 300)
        assert_quadrants(photo.image, COLOURS)
    assert_metadata_free(photo)


# Metadata


def test_jpeg_gps_xmp_comment_and_profile_are_dropped(astronaut: Image.Image) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        astronaut, "JPEG", exif=gps_exif(), xmp=xmp_packet(), comment=b"shot at home", icc_profile=srgb
    )
    assert gps_of(data)[ExifTags.GPS.GPSLatitude] == (48.0, 51.0, 29.6)
    assert b"Jane Doe" in data and b"shot at home" in data and b"Figurebot Test Camera" in data
    photo = accept_photo(data)
    assert_metadata_free(photo, b"Jane Doe", b"shot at home", b"Figurebot Test Camera")


def test_heic_gps_is_dropped(astronaut: Image.Image) -> None:
    data = encode(astronaut, "HEIF", quality=90, exif=gps_exif().tobytes(), xmp=xmp_packet())
    assert gps_of(data)[ExifTags.GPS.GPSLongitude] == (2.0, 17.0, 40.2)
    photo = accept_photo(data)
    assert photo.source_format == "HEIF"
    assert photo.image.size == (512, 512)
    assert_metadata_free(photo, b"Jane Doe", b"Figurebot Test Camera")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "png", "jpeg", "webp"])
def test_encode_round_trips(fmt: str, astronaut: Image.Image) -> None:
    photo = accept_photo(encode(astronaut, "PNG"))
    with Image.open(io.BytesIO(photo.encode(fmt))) as encoded:
        assert encoded.format == fmt.upper()
        assert encoded.size == (512, 512)
        assert encoded.mode == "RGB"
    assert photo.encode() == photo.encode("PNG")


def test_encode_refuses_other_formats(astronaut: Image.Image) -> None:
    photo = accept_photo(encode(astronaut, "PNG"))
    with pytest.raises(ValueError, match="BMP"):
        photo.encode("BMP")


# Size handling


def test_big_image_is_downscaled_like_one_lanczos_resize(astronaut: Image.Image) -> None:
    source = astronaut.resize((2600, 1300), Image.Resampling.BICUBIC)
    photo = accept_photo(encode(source, "PNG", compress_level=1))
    assert photo.image.size == (2048, 1024)
    expected = source.resize((2048, 1024), Image.Resampling.LANCZOS)
    difference = np.asarray(ImageChops.difference(photo.image, expected), dtype=np.float32)
    assert difference.mean() < 1.0


def test_very_large_image_is_box_reduced_then_resized() -> None:
    data = encode(quadrants((5000, 1000), COLOURS), "PNG", compress_level=1)
    photo = accept_photo(data, IntakeLimits(max_side=1024))
    assert photo.image.size == (1024, 205)
    assert_quadrants(photo.image, COLOURS, tolerance=2)


def test_image_within_max_side_keeps_its_size(astronaut: Image.Image) -> None:
    photo = accept_photo(encode(astronaut, "PNG"), IntakeLimits(max_side=512, min_side=512))
    assert photo.image.tobytes() == astronaut.tobytes()


@pytest.fixture
def jpeg_drafts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size each JPEG decodes at after ``draft``, recorded around Pillow's real method."""
    decoded: list[tuple[int, int]] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def recording_draft(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None):
        result = real_draft(self, mode, size)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)
    return decoded


@pytest.mark.parametrize(
    ("size", "orientation", "decoded", "result"),
    [
        ((2400, 1800), None, (600, 450), (512, 384)),  # a quarter still covers 512
        ((1800, 2400), None, (450, 600), (384, 512)),
        ((2400, 1800), 6, (600, 450), (384, 512)),
        ((1000, 750), None, (500, 375), (500, 375)),  # half is within 10% of 512: no resize
        ((1100, 825), None, (550, 413), (512, 384)),
        ((900, 675), None, (900, 675), (512, 384)),  # half (450) would fall too short of 512
    ],
)
def test_large_jpeg_decodes_at_the_smallest_sufficient_scale(
    size: tuple[int, int],
    orientation: int | None,
    decoded: tuple[int, int],
    result: tuple[int, int],
    jpeg_drafts: list[tuple[int, int]],
    astronaut: Image.Image,
) -> None:
    exif = gps_exif(orientation) if orientation else Image.Exif()
    data = encode(astronaut.resize(size), "JPEG", quality=90, exif=exif)
    photo = accept_photo(data, IntakeLimits(max_side=512))
    assert jpeg_drafts == [decoded]
    assert photo.image.size == result


def test_small_jpeg_is_not_drafted(jpeg_drafts: list[tuple[int, int]], astronaut: Image.Image) -> None:
    assert accept_photo(encode(astronaut, "JPEG")).image.size == (512, 512)
    assert jpeg_drafts == []


def test_concurrent_intake_matches_sequential_intake(astronaut: Image.Image) -> None:
    uploads = [
        encode(astronaut.resize((1400, 1000)), "JPEG"),
        encode(astronaut, "HEIF", quality=80),
        encode(astronaut.resize((1200, 1200)), "PNG", compress_level=1),
    ]
    limits = IntakeLimits(max_side=600)
    expected = [accept_photo(data, limits).image.tobytes() for data in uploads]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda data: accept_photo(data, limits).image.tobytes(), uploads * 3))
    assert results == expected * 3


@pytest.mark.parametrize("mode", ["RGBA", "P", "F"])
@pytest.mark.parametrize("size", [(700, 300), (300, 1600), (2000, 300)])  # Lanczos only; box reduce first
def test_converted_images_shrink_like_converting_then_one_resize(
    mode: str, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.intake._BAND_PIXELS", 5000)  # dozens of bands, so seams would show
    rng = np.random.default_rng(7)
    width, height = size
    if mode == "F":
        values = rng.random((height, width), dtype=np.float32)
        image = Image.fromarray(values)
        flat = Image.fromarray((values * 255 + 0.5).astype(np.uint8)).convert("RGB")
    elif mode == "P":
        image = Image.frombytes("P", size, rng.integers(0, 256, width * height, dtype=np.uint8).tobytes())
        image.putpalette(rng.integers(0, 256, 768, dtype=np.uint8).tobytes())
        image.info["transparency"] = 0
        flat = Image.new("RGB", size, WHITE)
        flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
    else:
        image = Image.fromarray(rng.integers(0, 256, (height, width, 4), dtype=np.uint8))
        flat = Image.new("RGB", size, WHITE)
        flat.paste(image, mask=image.getchannel("A"))
    data = encode(image, "TIFF" if mode == "F" else "PNG", compress_level=1)
    photo = accept_photo(data, IntakeLimits(max_side=256))
    expected = flat.resize(photo.image.size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    difference = np.asarray(ImageChops.difference(photo.image, expected))
    assert difference.max() <= 1  # floating-point rounding at most


MEASURE_PEAK = """
import io, resource, sys
from PIL import Image
from bot.intake import accept_photo
warm_up = io.BytesIO()
Image.new("RGB", (300, 300)).save(warm_up, "PNG")
accept_photo(warm_up.getvalue())  # plugins, HEIF registration and colour management load here
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
photo = accept_photo(data)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(photo.width, photo.height, (after - before) * (1 if sys.platform == "darwin" else 1024))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="peak memory is read with the resource module")
@pytest.mark.parametrize(
    ("kind", "decoded_mb"),
    [("16-bit grey PNG", 72), ("RGBA PNG", 144), ("float TIFF", 144)],
)
def test_large_photo_costs_its_decoded_pixels_and_little_more(
    kind: str, decoded_mb: int, tmp_path: Path
) -> None:
    """6000x6000 photos (36 MP) are decoded whole; converting and shrinking them must not copy them.

    Pillow holds 16-bit grey in 2 bytes a pixel and RGBA or float in 4. On top of the decoded
    pixels come the decoders' buffers, one band of rows at a time and two 2048x2048 results
    (16 MB each): 64 MB covers them. Converting the whole image at once cost 330 to 590 MB more.
    """
    builders = {
        "16-bit grey PNG": lambda: flat_png(
            6000, 6000, struct.pack(">H", 30000), bit_depth=16, colour_type=0
        ),
        "RGBA PNG": lambda: flat_png(6000, 6000, bytes((255, 0, 0, 128)), bit_depth=8, colour_type=6),
        "float TIFF": lambda: strip_tiff(
            6000,
            6000,
            zlib.compress(struct.pack("<f", 0.25) * 48 * 6000, 1),
            rows_per_strip=48,
            bits=32,
            sample_format=3,
            compression=8,
        ),
    }
    photo = tmp_path / "photo"
    photo.write_bytes(builders[kind]())
    child = subprocess.run(
        [sys.executable, "-c", MEASURE_PEAK, str(photo)], capture_output=True, text=True, cwd=ROOT, check=True
    )
    width, height, growth = map(int, child.stdout.split())
    assert (width, height) == (2048, 2048)
    assert growth < (decoded_mb + 64) * MB, f"peak grew by {growth / MB:.0f} MB"


# Limits


def test_limits_come_from_settings() -> None:
    settings = Settings(photo_max_mb=1.5, photo_max_megapixels=12, photo_min_side=300, photo_max_side=1024)
    assert IntakeLimits.from_settings(settings) == IntakeLimits(
        max_bytes=int(1.5 * MB), max_pixels=12_000_000, min_side=300, max_side=1024
    )


@pytest.mark.parametrize(
    ("size", "limits", "message"),
    [
        (31 * MB, IntakeLimits(), "That file is 31 MB; the limit is 20 MB."),
        (
            25 * MB + MB // 2,
            IntakeLimits(max_bytes=int(20.5 * MB)),
            "That file is 25.5 MB; the limit is 20.5 MB.",
        ),
        (20 * MB + 1, IntakeLimits(), "That file is 20.1 MB; the limit is 20 MB."),
        (300 * 1024, IntakeLimits(max_bytes=200 * 1024), "That file is 300 KB; the limit is 200 KB."),
    ],
)
def test_oversize_file_is_refused_before_it_is_read(size: int, limits: IntakeLimits, message: str) -> None:
    assert refusal(b"\xff\xd8\xff" + bytes(size - 3), limits) == message


def test_real_photo_over_a_low_size_limit_is_refused(astronaut: Image.Image) -> None:
    data = encode(astronaut, "PNG")
    assert len(data) > 300 * 1024
    assert refusal(data, IntakeLimits(max_bytes=300 * 1024)).endswith("; the limit is 300 KB.")


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (20000, 20000, "That image is 400 megapixels; the limit is 40 megapixels."),  # Pillow would raise
        (10000, 9000, "That image is 90 megapixels; the limit is 40 megapixels."),  # Pillow would only warn
        (6000, 6667, "That image is 40.1 megapixels; the limit is 40 megapixels."),
    ],
)
def test_pixel_bomb_is_refused_from_its_header(
    width: int, height: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_decoding(self: PngImagePlugin.PngImageFile) -> None:
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    data = png_declaring(width, height)
    assert len(data) < 200
    assert refusal(data) == message


def test_pixel_limit_is_configurable(astronaut: Image.Image) -> None:
    message = refusal(encode(astronaut, "PNG"), IntakeLimits(max_pixels=250_000))
    assert message == "That image is 0.3 megapixels; the limit is 0.2 megapixels."


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ((1, 1), "That photo is 1x1 pixels; it needs to be at least 256 pixels on each side."),
        ((200, 150), "That photo is 200x150 pixels; it needs to be at least 256 pixels on each side."),
        ((1000, 255), "That photo is 1000x255 pixels; it needs to be at least 256 pixels on each side."),
    ],
)
def test_too_small_photo_is_refused(size: tuple[int, int], message: str) -> None:
    assert refusal(encode(Image.new("RGB", size, RED), "PNG")) == message


def test_photo_at_the_minimum_size_is_accepted() -> None:
    assert accept_photo(encode(Image.new("RGB", (256, 256), RED), "PNG")).image.size == (256, 256)


# Refusals


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"Holiday notes: pack sunscreen and the good camera.\n" * 20, id="text-named-jpg"),
        pytest.param(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n", id="pdf"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400"><circle r="90"/></svg>',
            id="svg",
        ),
        pytest.param(b"\x00" * 4096, id="zeros"),
    ],
)
def test_non_photo_is_refused(data: bytes) -> None:
    assert refusal(data) == NOT_A_PHOTO


def test_unsupported_image_format_is_refused(astronaut: Image.Image) -> None:
    assert refusal(encode(astronaut, "BMP")) == NOT_A_PHOTO


def test_empty_file_is_refused() -> None:
    assert refusal(b"") == f"That file is empty. {SEND}"


@pytest.mark.parametrize("upload", ["photo.jpg", None, 42, [255, 216, 255], Path("photo.jpg")])
def test_upload_of_the_wrong_type_is_refused(upload: object) -> None:
    assert refusal(upload) == f"That upload is not a file I can read. {SEND}"


@pytest.mark.parametrize(
    ("fmt", "keep"),
    [("JPEG", 0.5), ("JPEG", 0.01), ("PNG", 0.5), ("WEBP", 0.5), ("HEIF", 0.5), ("GIF", 0.5)],
)
def test_truncated_photo_is_refused_as_damaged(fmt: str, keep: float, astronaut: Image.Image) -> None:
    data = encode(astronaut, fmt)
    with pytest.raises(PhotoRejected) as caught:
        accept_photo(data[: int(len(data) * keep)])
    assert str(caught.value) == DAMAGED
    assert caught.value.__cause__ is not None  # the decoder's error is kept for the logs


# Files built to be slow or hungry to parse


@pytest.mark.parametrize("scans", [10, 100])
def test_progressive_jpeg_with_up_to_100_scans_is_accepted(scans: int) -> None:
    photo = accept_photo(jpeg_with_scans(scans))
    assert photo.image.size == (512, 512)


@pytest.mark.parametrize("scans", [101, 3000])
def test_jpeg_with_too_many_scans_is_refused_before_it_is_parsed(scans: int, parsed: list[str]) -> None:
    data = jpeg_with_scans(scans)
    assert len(data) < 64 * 1024
    assert refusal(data) == UNUSUAL
    assert parsed == []


@pytest.mark.parametrize(("comments", "accepted"), [(300, True), (1001, False)])
def test_jpeg_with_a_flood_of_segments_is_refused(
    comments: int, accepted: bool, astronaut: Image.Image
) -> None:
    data = with_segment(encode(astronaut, "JPEG"), 0xFE, b"hello", count=comments)
    if accepted:
        assert accept_photo(data).image.size == (512, 512)
    else:
        assert refusal(data) == UNUSUAL


@pytest.mark.parametrize(
    ("order", "big", "height", "strips"),
    [
        ("<", False, 100_000, 100_000),  # one row per strip, but a 390:1 picture
        (">", False, 100_000, 100_000),
        ("<", True, 100_000, 100_000),
        ("<", False, 20_000, 1_000_000),  # far more strips than rows
    ],
)
def test_tiff_with_too_many_strips_is_refused_before_it_is_parsed(
    order: str, big: bool, height: int, strips: int, parsed: list[str]
) -> None:
    data = strip_tiff(256, height, bytes(256), strips=strips, offsets_type=TIFF_SHORT, order=order, big=big)
    assert len(data) < 5 * MB
    assert refusal(data) == UNUSUAL
    assert parsed == []


def test_tiff_with_65536_strips_is_accepted() -> None:
    data = strip_tiff(256, 65_536, bytes([77]) * 256, offsets_type=TIFF_SHORT)
    photo = accept_photo(data)
    assert photo.image.size == (8, 2048)
    assert photo.image.getpixel((4, 1000)) == (77, 77, 77)


def test_tiff_with_too_many_directory_entries_is_refused(parsed: list[str]) -> None:
    extra = {60_000 + index: (TIFF_SHORT, [1]) for index in range(1000)}
    assert refusal(strip_tiff(300, 300, bytes(300), rows_per_strip=300, extra_tags=extra)) == UNUSUAL
    assert parsed == []


def test_tiff_with_a_value_past_its_end_is_refused_quietly() -> None:
    data = strip_tiff(
        300, 300, bytes(300), rows_per_strip=300, extra_tags={305: (TIFF_ASCII, [65] * 99 + [0])}
    )
    entry = struct.pack("<HHL", 305, TIFF_ASCII, 100)
    at = data.index(entry) + len(entry)
    data = data[:at] + struct.pack("<L", len(data) + 1000) + data[at + 4 :]
    with quietly():
        assert refusal(data) == DAMAGED


def test_tiff_pixel_bomb_is_refused_before_it_is_parsed(parsed: list[str]) -> None:
    data = strip_tiff(20_000, 20_000, bytes(20_000), rows_per_strip=20_000)
    assert refusal(data) == "That image is 400 megapixels; the limit is 40 megapixels."
    assert parsed == []


# Resources


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The format of every opened image whose ``close`` was called."""
    calls: list[str] = []
    real_close = Image.Image.close

    def recording_close(self: Image.Image) -> None:
        if self.format:
            calls.append(self.format)
        real_close(self)

    monkeypatch.setattr(Image.Image, "close", recording_close)
    return calls


def test_opened_upload_is_closed_after_intake(closed: list[str], astronaut: Image.Image) -> None:
    accept_photo(encode(astronaut, "HEIF", quality=80))
    assert closed == ["HEIF"]


def test_opened_upload_is_closed_after_a_refusal(closed: list[str]) -> None:
    refusal(encode(Image.new("RGB", (200, 150), RED), "PNG"))
    assert closed == ["PNG"]
