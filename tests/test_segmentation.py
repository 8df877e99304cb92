"""Person segmentation and face finding: the models, group photos, the fallback frame and odd inputs."""

from __future__ import annotations

import logging
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.figure.segmentation import blazeface
from bot.figure.segmentation.person import Cutout, find_person
from bot.figure.segmentation.runtime import models_available

ROOT = Path(__file__).resolve().parent.parent
ASTRONAUT = ROOT / "examples" / "astronaut.png"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
HOPPER = FIXTURES / "hopper.jpg"
CAMERAMAN = FIXTURES / "cameraman.png"

# Measured by eye on the 512x512 sample: the face (brow to chin) is centred near (225, 125),
# plain studio backdrop lies either side of the head, the orange suit fills the lower middle.
FACE_CENTRE = (225, 125)
BACKDROP_LEFT = (100, 0, 150, 80)
BACKDROP_RIGHT = (305, 10, 365, 110)
SUIT = (150, 300, 300, 450)
# Face boxes measured on each real portrait, to crop it around the face for a made-up group photo.
PORTRAIT_FACES = {
    ASTRONAUT: (175, 75, 275, 175),
    HOPPER: (163, 138, 366, 341),
    CAMERAMAN: (193, 128, 256, 190),
}


def _astronaut() -> Image.Image:
    with Image.open(ASTRONAUT) as image:
        return image.convert("RGB")


def _region_mean(mask: Image.Image, box: tuple[int, int, int, int]) -> float:
    return float(np.asarray(mask.crop(box), dtype=np.float32).mean())


def _centre(box: tuple[int, int, int, int]) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _portrait(path: Path, side: int = 300, zoom: float = 3.0) -> Image.Image:
    """A ``side`` pixel square of the portrait at ``path``, about ``zoom`` face widths across the face."""
    with Image.open(path) as image:
        photo = image.convert("RGB")
    left, top, right, bottom = PORTRAIT_FACES[path]
    half = min((right - left) * zoom, photo.width, photo.height) / 2
    x = min(max((left + right) / 2, half), photo.width - half)
    y = min(max((top + bottom) / 2, half), photo.height - half)
    return photo.resize((side, side), Image.Resampling.BICUBIC, box=(x - half, y - half, x + half, y + half))


def _group(*portraits: Image.Image) -> Image.Image:
    """Portraits side by side, bottoms aligned, like people standing shoulder to shoulder."""
    group = Image.new("RGB", (sum(p.width for p in portraits), max(p.height for p in portraits)), "gray")
    left = 0
    for portrait in portraits:
        group.paste(portrait, (left, group.height - portrait.height))
        left += portrait.width
    return group


def _on_canvas(size: tuple[int, int], side: int) -> Image.Image:
    """The sample person scaled to ``side`` pixels, centred on a plain canvas of ``size``."""
    canvas = Image.new("RGB", size, (128, 140, 150))
    canvas.paste(_astronaut().resize((side, side)), ((size[0] - side) // 2, (size[1] - side) // 2))
    return canvas


@pytest.fixture(scope="module")
def astronaut_cutout() -> Cutout:
    return find_person(_astronaut())


def test_models_load_here() -> None:
    assert models_available()


def test_astronaut_is_found_by_the_model(astronaut_cutout: Cutout) -> None:
    assert astronaut_cutout.method == "model"
    assert astronaut_cutout.person_found
    assert astronaut_cutout.faces == 1
    assert astronaut_cutout.mask.mode == "L"
    assert astronaut_cutout.mask.size == (512, 512)


def test_astronaut_face_box_sits_on_the_face(astronaut_cutout: Cutout) -> None:
    face = astronaut_cutout.face
    assert face is not None
    centre_x, centre_y = _centre(face)
    assert abs(centre_x - FACE_CENTRE[0]) <= 25
    assert abs(centre_y - FACE_CENTRE[1]) <= 25
    assert 60 <= face[2] - face[0] <= 140
    assert 60 <= face[3] - face[1] <= 140


def test_astronaut_mask_covers_the_person_not_the_backdrop(astronaut_cutout: Cutout) -> None:
    mask = astronaut_cutout.mask
    assert astronaut_cutout.face is not None
    assert _region_mean(mask, astronaut_cutout.face) > 220
    assert _region_mean(mask, SUIT) > 250
    assert _region_mean(mask, BACKDROP_LEFT) < 5
    assert _region_mean(mask, BACKDROP_RIGHT) < 5


def test_astronaut_mask_is_clean_with_soft_edges(astronaut_cutout: Cutout) -> None:
    pixels = np.asarray(astronaut_cutout.mask)
    partial = (pixels > 0) & (pixels < 255)
    assert 0.005 < partial.mean() < 0.06
    assert 0.4 < (pixels > 127).mean() < 0.7
    # The confident subject starts at the top of the hair, not at a stray speck above it.
    box = astronaut_cutout.mask.point(lambda value: 255 if value > 96 else 0).getbbox()
    assert box is not None
    assert 5 <= box[1] <= 30


@pytest.mark.parametrize("name", ["cat.png", "coffee.png"])
def test_photos_without_a_person_get_the_fallback_frame(name: str) -> None:
    with Image.open(FIXTURES / name) as image:
        photo = image.convert("RGB")
    cutout = find_person(photo)
    assert not cutout.person_found
    assert cutout.method == "fallback"
    assert cutout.face is None
    assert cutout.faces == 0
    assert cutout.mask.tobytes() == find_person(photo, use_model=False).mask.tobytes()


@pytest.mark.parametrize(("path", "face"), [(HOPPER, (265, 240)), (CAMERAMAN, (225, 159))])
def test_other_real_people_are_one_face_each(path: Path, face: tuple[int, int]) -> None:
    with Image.open(path) as image:
        cutout = find_person(image.convert("RGB"))
    assert cutout.person_found
    assert cutout.faces == 1
    assert cutout.face is not None
    centre_x, centre_y = _centre(cutout.face)
    assert abs(centre_x - face[0]) <= 25
    assert abs(centre_y - face[1]) <= 25


@pytest.mark.parametrize("people", [(HOPPER, CAMERAMAN, ASTRONAUT), (CAMERAMAN, ASTRONAUT, HOPPER)])
def test_group_photo_counts_every_face_and_keeps_the_middle_person(people: tuple[Path, ...]) -> None:
    group = _group(*(_portrait(path) for path in people))
    cutout = find_person(group)
    assert cutout.person_found
    assert cutout.faces == 3
    assert cutout.face is not None
    assert 300 <= _centre(cutout.face)[0] < 600
    assert _region_mean(cutout.mask, (375, 75, 525, 225)) > 200
    # The neighbours' heads, beside the chosen one, are left out of the mask.
    assert _region_mean(cutout.mask, (50, 0, 250, 150)) < 10
    assert _region_mean(cutout.mask, (650, 0, 850, 150)) < 10


def test_small_group_in_a_large_photo_is_searched_close_up() -> None:
    photo = Image.new("RGB", (1200, 800), (150, 160, 170))
    photo.paste(_group(*(_portrait(path) for path in (HOPPER, CAMERAMAN, ASTRONAUT))), (150, 500))
    cutout = find_person(photo)
    assert cutout.faces == 3
    assert cutout.face is not None
    centre_x, centre_y = _centre(cutout.face)
    assert 150 <= centre_x < 1050
    assert 500 <= centre_y < 800


def test_group_photo_prefers_a_much_larger_face_over_a_central_one() -> None:
    group = _group(_portrait(HOPPER, 400, 2.0), _portrait(ASTRONAUT), _portrait(CAMERAMAN))
    cutout = find_person(group)
    assert cutout.faces >= 2
    assert cutout.face is not None
    assert _centre(cutout.face)[0] < 400
    assert _region_mean(cutout.mask, (450, 0, 650, 150)) < 10


def test_fallback_frame_is_a_soft_rounded_box_over_the_middle() -> None:
    cutout = find_person(Image.new("RGB", (600, 400), "white"), use_model=False)
    assert cutout.faces == 0
    pixels = np.asarray(cutout.mask).astype(int)
    assert cutout.mask.mode == "L"
    assert cutout.mask.size == (600, 400)
    assert pixels[200, 300] == 255
    assert pixels[0, 0] == pixels[0, -1] == pixels[-1, 0] == pixels[-1, -1] == 0
    row, column = pixels[200], pixels[:, 300]
    assert row[15] < 10 and row[-15] < 10 and column[15] < 10 and column[-15] < 10
    assert row[90] > 245 and row[-90] > 245 and column[60] > 245 and column[-60] > 245
    assert 0 < row[60] < 255
    assert 0.55 < (pixels > 127).mean() < 0.7


def test_use_model_false_never_loads_the_models(
    runtime_missing: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="figurebot.segmentation"):
        cutout = find_person(_astronaut(), use_model=False)
    assert cutout.method == "fallback"
    assert not cutout.person_found
    assert cutout.face is None
    assert caplog.records == []


def test_missing_runtime_falls_back_with_one_warning(
    runtime_missing: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="figurebot.segmentation"):
        first = find_person(_astronaut())
        second = find_person(_astronaut())
        available = models_available()
    assert not available
    for cutout in (first, second):
        assert cutout.method == "fallback"
        assert not cutout.person_found
        assert cutout.mask.size == (512, 512)
    warnings = [record for record in caplog.records if record.name == "figurebot.segmentation"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


def test_models_load_again_after_the_runtime_returns(fresh_models: None) -> None:
    assert find_person(_astronaut()).method == "model"


def test_same_photo_gives_identical_results(astronaut_cutout: Cutout) -> None:
    again = find_person(_astronaut())
    assert again.mask.tobytes() == astronaut_cutout.mask.tobytes()
    assert again.face == astronaut_cutout.face


def test_concurrent_calls_match_a_single_call(astronaut_cutout: Cutout) -> None:
    photo = _astronaut()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: find_person(photo), range(8)))
    assert {result.mask.tobytes() for result in results} == {astronaut_cutout.mask.tobytes()}
    assert {result.face for result in results} == {astronaut_cutout.face}


@pytest.mark.parametrize(
    ("label", "photo", "scale"),
    [
        ("tiny", _astronaut().resize((256, 256)), 0.5),
        ("large", _astronaut().resize((2048, 2048)), 4.0),
        ("grayscale", _astronaut().convert("L").convert("RGB"), 1.0),
        ("mode_L", _astronaut().convert("L"), 1.0),
        ("mode_RGBA", _astronaut().convert("RGBA"), 1.0),
        ("mode_P", _astronaut().convert("P"), 1.0),
    ],
)
def test_person_found_across_sizes_and_modes(label: str, photo: Image.Image, scale: float) -> None:
    cutout = find_person(photo)
    assert cutout.person_found, label
    assert cutout.mask.size == photo.size
    assert cutout.mask.mode == "L"
    assert cutout.face is not None
    centre_x, centre_y = _centre(cutout.face)
    assert abs(centre_x - FACE_CENTRE[0] * scale) <= 25 * scale
    assert abs(centre_y - FACE_CENTRE[1] * scale) <= 25 * scale


def test_small_person_in_a_very_wide_photo_is_found_close_up() -> None:
    photo = _on_canvas((2000, 300), 300)
    cutout = find_person(photo)
    assert cutout.person_found
    assert cutout.face is not None
    offset_x = (2000 - 300) / 2
    centre_x, centre_y = _centre(cutout.face)
    assert abs(centre_x - (offset_x + FACE_CENTRE[0] * 300 / 512)) <= 20
    assert abs(centre_y - FACE_CENTRE[1] * 300 / 512) <= 20
    assert _region_mean(cutout.mask, (0, 0, 400, 300)) < 5


@pytest.mark.parametrize("size", [(2000, 300), (300, 2000), (1, 1), (3, 700), (64, 64)])
def test_extreme_shapes_give_a_full_size_mask(size: tuple[int, int]) -> None:
    photo = _astronaut().resize(size)
    cutout = find_person(photo)
    assert cutout.mask.size == size
    assert cutout.mask.mode == "L"
    assert cutout.method == ("model" if cutout.person_found else "fallback")
    if cutout.face is not None:
        assert 0 <= cutout.face[0] <= cutout.face[2] <= size[0]
        assert 0 <= cutout.face[1] <= cutout.face[3] <= size[1]


def test_anchor_grid_matches_the_short_range_layout() -> None:
    anchors = blazeface._anchors()
    assert anchors.shape == (896, 2)
    np.testing.assert_allclose(anchors[0], anchors[1])
    np.testing.assert_allclose(anchors[0], (1 / 32, 1 / 32))
    np.testing.assert_allclose(anchors[2], (3 / 32, 1 / 32))
    np.testing.assert_allclose(anchors[512], (1 / 16, 1 / 16))
    np.testing.assert_allclose(anchors[512:518], np.repeat([[1 / 16, 1 / 16]], 6, axis=0))
    np.testing.assert_allclose(anchors[-1], (15 / 16, 15 / 16))


def test_importing_does_not_load_the_runtime() -> None:
    code = "import sys, bot.figure.segmentation.person; print('ai_edge_litert' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_runtime_banner_stays_off_stderr() -> None:
    code = (
        "from PIL import Image; from bot.figure.segmentation.person import find_person; "
        f"print(find_person(Image.open({str(ASTRONAUT)!r})).method)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "model"
    assert "XNNPACK" not in result.stderr
