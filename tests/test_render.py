"""End-to-end offline rendering: photo bytes in, boxed figure out, through the local generator."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.boxart.layout import layout_for
from bot.generators.base import Progress
from bot.generators.local import LocalGenerator
from bot.intake import accept_photo
from bot.output import MAX_OUTPUT_BYTES, encode_figure
from bot.spec import make_spec

ROOT = Path(__file__).resolve().parent.parent
PERSON = ROOT / "examples" / "astronaut.png"
CAT = ROOT / "tests" / "fixtures" / "cat.png"
COFFEE = ROOT / "tests" / "fixtures" / "coffee.png"
SIZE = (1024, 1536)


def render(path: Path, fmt: str = "png", **fields: str) -> bytes:
    spec = make_spec(**fields)
    return encode_figure(LocalGenerator(SIZE).render(accept_photo(path.read_bytes()), spec), fmt)


def open_rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def region(pixels: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    left, top, right, bottom = rect
    return pixels[top:bottom, left:right]


@pytest.mark.parametrize("photo", [PERSON, CAT, COFFEE], ids=["person", "cat", "object"])
@pytest.mark.parametrize("style", ["blister", "window"])
def test_every_photo_gives_a_full_box(photo: Path, style: str) -> None:
    data = render(photo, name="Alex", theme="astronaut", accessories="helmet, cat", style=style)
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", SIZE)
    assert len(data) < MAX_OUTPUT_BYTES
    pixels = open_rgb(data)
    layout = layout_for(style, SIZE)
    window = region(pixels, layout.window)
    # The figure fills the window: plenty of detail, not a flat empty blister.
    assert window.std() > 25
    # The name plate is the theme's accent colour with the name written on it.
    plate = region(pixels, layout.plate)
    assert len(np.unique(plate.reshape(-1, 3), axis=0)) > 20


def test_person_is_cut_out_not_pasted_as_a_rectangle() -> None:
    photo = accept_photo(PERSON.read_bytes())
    figure = LocalGenerator(SIZE).toy(photo, make_spec(name="Eileen"))
    alpha = np.asarray(figure.image.getchannel("A"))
    assert figure.is_person
    # The backdrop around the head and shoulders is transparent; the body is solid.
    assert (alpha < 16).mean() > 0.15
    assert (alpha > 240).mean() > 0.5


def test_a_person_cut_off_by_the_photo_sits_flush_on_the_window_floor() -> None:
    generator = LocalGenerator(SIZE)
    cut_off = generator.toy(accept_photo(PERSON.read_bytes()), make_spec())
    assert cut_off.anchor == "bottom"
    with Image.open(PERSON) as image:
        whole = Image.new("RGB", (900, 900), (235, 228, 220))
        whole.paste(image.convert("RGB").resize((400, 400)), (250, 150))
    standing = generator.toy(accept_photo(encode_png(whole)), make_spec())
    assert standing.is_person and standing.anchor == "floor"


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_object_photo_is_framed_whole() -> None:
    figure = LocalGenerator(SIZE).toy(accept_photo(COFFEE.read_bytes()), make_spec(name="Cup"))
    alpha = np.asarray(figure.image.getchannel("A"))
    assert not figure.is_person and figure.anchor == "centre"
    assert (alpha > 240).mean() > 0.6


def test_same_inputs_give_same_bytes() -> None:
    first = render(PERSON, name="Zoë 🚀", theme="wizard", tagline="Magic!")
    second = render(PERSON, name="Zoë 🚀", theme="wizard", tagline="Magic!")
    assert first == second


def test_name_and_theme_change_the_picture() -> None:
    base = render(PERSON, name="Alex", theme="pirate")
    assert render(PERSON, name="Sam", theme="pirate") != base
    assert render(PERSON, name="Alex", theme="chef") != base


@pytest.mark.parametrize("fmt, magic", [("jpeg", b"\xff\xd8"), ("webp", b"RIFF")])
def test_other_formats(fmt: str, magic: bytes) -> None:
    data = render(CAT, fmt, name="Chelsea", theme="detective")
    assert data.startswith(magic)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == SIZE


def test_free_text_theme_renders() -> None:
    data = render(COFFEE, name="Barista Bo", theme="coffee wizard of the night shift")
    assert open_rgb(data).std() > 30


def test_oversized_output_is_scaled_under_the_limit() -> None:
    noise = np.random.default_rng(7).integers(0, 256, (2600, 2000, 3), dtype=np.uint8)
    data = encode_figure(Image.fromarray(noise), "png")
    assert len(data) <= MAX_OUTPUT_BYTES
    with Image.open(io.BytesIO(data)) as image:
        assert image.width < 2000


def test_generate_reports_progress_and_returns_the_box() -> None:
    seen: list[Progress] = []

    async def record(progress: Progress) -> None:
        seen.append(progress)

    photo = accept_photo(PERSON.read_bytes())
    image = asyncio.run(LocalGenerator(SIZE).generate(photo, make_spec(name="Eileen"), record))
    assert image.size == SIZE and image.mode == "RGB"
    assert [p.fraction for p in seen] == sorted(p.fraction for p in seen)
    assert seen[-1].fraction == 1.0
