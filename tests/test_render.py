"""End-to-end offline rendering: photo bytes in, boxed figure out, through the local generator."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.boxart.compose import figure_limit
from bot.boxart.layout import layout_for
from bot.generators.base import Progress
from bot.generators.local import GROUP_NOTE, NO_PERSON_NOTE, LocalGenerator
from bot.intake import accept_photo
from bot.output import MAX_OUTPUT_BYTES, encode_figure
from bot.spec import make_spec

ROOT = Path(__file__).resolve().parent.parent
PERSON = ROOT / "examples" / "astronaut.png"
CAT = ROOT / "tests" / "fixtures" / "cat.png"
COFFEE = ROOT / "tests" / "fixtures" / "coffee.png"
HOPPER = ROOT / "tests" / "fixtures" / "hopper.jpg"
CAMERAMAN = ROOT / "tests" / "fixtures" / "cameraman.png"
SIZE = (1024, 1536)


def render(path: Path, fmt: str = "png", **fields: str | int) -> bytes:
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


def test_person_becomes_a_toy_standing_in_the_window_not_a_pasted_rectangle() -> None:
    photo = accept_photo(PERSON.read_bytes())
    figure = LocalGenerator(SIZE).toy(photo, make_spec(name="Eileen"))
    alpha = np.asarray(figure.image.getchannel("A"))
    # Around the figure the window shows through; the figure itself is solid plastic.
    assert (alpha < 16).mean() > 0.4
    assert (alpha > 240).mean() > 0.15
    assert figure.anchor == "floor"
    assert figure.held is not None


def test_a_bust_and_a_small_whole_person_both_stand_on_the_floor() -> None:
    generator = LocalGenerator(SIZE)
    bust = generator.toy(accept_photo(PERSON.read_bytes()), make_spec())
    with Image.open(PERSON) as image:
        whole = Image.new("RGB", (900, 900), (235, 228, 220))
        whole.paste(image.convert("RGB").resize((400, 400)), (250, 150))
    small = generator.toy(accept_photo(encode_png(whole)), make_spec())
    assert bust.anchor == small.anchor == "floor"
    assert abs(bust.image.height - small.image.height) < 0.05 * bust.image.height


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def solid_share(image: Image.Image) -> float:
    """How much of the figure's bounding box is solid: near 1 for a pasted rectangle."""
    alpha = np.asarray(image.getchannel("A"))
    return float((alpha > 128).mean())


@pytest.mark.parametrize("photo", [CAT, COFFEE], ids=["pet", "object"])
def test_a_pet_or_an_object_is_cut_out_and_stands_on_the_stand(photo: Path) -> None:
    figure = LocalGenerator(SIZE).toy(accept_photo(photo.read_bytes()), make_spec(theme="pirate"))
    assert figure.anchor == "floor" and figure.held is None and figure.notes == (NO_PERSON_NOTE,)
    assert solid_share(figure.image) < 0.8


def side_by_side(*paths: Path, height: int = 400) -> bytes:
    portraits = []
    for path in paths:
        with Image.open(path) as image:
            portrait = image.convert("RGB")
        portraits.append(portrait.resize((round(portrait.width * height / portrait.height), height)))
    group = Image.new("RGB", (sum(p.width for p in portraits), height))
    left = 0
    for portrait in portraits:
        group.paste(portrait, (left, 0))
        left += portrait.width
    return encode_png(group)


def test_a_group_photo_gives_one_figure_and_says_whom_it_used() -> None:
    group = side_by_side(HOPPER, PERSON, CAMERAMAN)
    painted = LocalGenerator(SIZE).paint(accept_photo(group), make_spec())
    assert GROUP_NOTE in painted.notes
    single = LocalGenerator(SIZE).paint(accept_photo(PERSON.read_bytes()), make_spec())
    assert GROUP_NOTE not in single.notes


def head_brightness(figure: Image.Image) -> float:
    """The mean brightness of the top sixth of a figure (the head), over its solid pixels."""
    top = figure.crop((0, 0, figure.width, figure.height // 6))
    alpha = np.asarray(top.getchannel("A")) > 200
    return float(np.asarray(top.convert("L"))[alpha].mean())


def test_a_very_dark_photo_is_brightened_before_the_face_is_used() -> None:
    with Image.open(PERSON) as image:
        dark = image.convert("RGB").point(lambda v: v // 6)
    generator = LocalGenerator(SIZE)
    spec = make_spec(theme="ninja")
    normal = generator.toy(accept_photo(PERSON.read_bytes()), spec)
    dimmed = generator.toy(accept_photo(encode_png(dark)), spec)
    assert dimmed.held is not None  # still a person on a toy body
    assert head_brightness(dimmed.image) > 0.6 * head_brightness(normal.image)


def scene_with_person(side: int) -> bytes:
    with Image.open(PERSON) as image:
        person = image.convert("RGB").resize((side, side))
    scene = Image.new("RGB", (1600, 1200), (120, 150, 90))
    scene.paste(person, (760, 540))
    return encode_png(scene)


def test_a_small_person_in_a_big_photo_still_gives_a_whole_figure() -> None:
    figure = LocalGenerator(SIZE).toy(accept_photo(scene_with_person(300)), make_spec())
    assert figure.held is not None and figure.notes == ()
    assert figure.image.height > 0.75 * figure_limit("blister", SIZE)[1]


def test_a_person_too_small_to_see_gets_a_collectible_and_a_hint_to_crop() -> None:
    figure = LocalGenerator(SIZE).toy(accept_photo(scene_with_person(60)), make_spec())
    assert figure.notes == (NO_PERSON_NOTE,)
    assert figure.image.getchannel("A").getbbox() is not None


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
    image = asyncio.run(LocalGenerator(SIZE).generate(photo, make_spec(name="Eileen"), record)).image
    assert image.size == SIZE and image.mode == "RGB"
    assert [p.fraction for p in seen] == sorted(p.fraction for p in seen)
    assert seen[-1].fraction == 1.0


def test_each_variant_is_a_different_figure_and_repeats_itself() -> None:
    first = render(PERSON, theme="knight", variant=1)
    second = render(PERSON, theme="knight", variant=2)
    assert first != second
    assert render(PERSON, theme="knight", variant=2) == second
    # Not just a moved pixel: the figure's silhouette changes.
    shapes = [open_rgb(data) for data in (first, second)]
    assert np.abs(shapes[0] - shapes[1]).mean() > 2


def test_the_costume_text_changes_the_figure_and_unknown_words_are_told() -> None:
    plain = render(PERSON, theme="pirate")
    caped = render(PERSON, theme="pirate", costume="red cape and golden armour")
    assert plain != caped
    painted = LocalGenerator(SIZE).paint(accept_photo(PERSON.read_bytes()), make_spec(costume="a jetpack"))
    assert painted.notes == ("I could not draw: jetpack.",)


def test_the_accessory_in_hand_leaves_its_compartment() -> None:
    generator = LocalGenerator(SIZE)
    spec = make_spec(accessories="sword, shield, map")
    figure = generator.toy(accept_photo(PERSON.read_bytes()), spec)
    assert figure.held == "Sword"
    assert generator.toy(accept_photo(PERSON.read_bytes()), replace(spec, variant=2)).held == "Shield"


def test_without_the_face_models_runtime_a_portrait_still_becomes_a_whole_toy(runtime_missing: None) -> None:
    figure = LocalGenerator(SIZE).toy(accept_photo(PERSON.read_bytes()), make_spec(theme="chef"))
    assert figure.held is not None and figure.notes == ()
    assert figure.image.height > 0.75 * figure_limit("blister", SIZE)[1]
