"""Photos without a person: the subject cutout of a pet and an object, and the exposure fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.figure.exposure import corrected
from bot.figure.subject import subject_mask

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ASTRONAUT = ROOT / "examples" / "astronaut.png"

# Measured by eye: the cat's eyes and nose, the blurred room right of its head, its left ear and
# cheek; the cup's crema, and bare table left of the saucer and in the top right corner.
CAT_FACE = (200, 100, 330, 170)
CAT_ROOM = (410, 60, 451, 200)
CAT_EAR = (40, 5, 80, 45)
CAT_CHEEK = (40, 120, 80, 180)
CUP_CREMA = (250, 140, 300, 180)
TABLE_LEFT = (0, 150, 50, 300)
TABLE_CORNER = (540, 0, 600, 60)


def _photo(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def _region_mean(mask: Image.Image, box: tuple[int, int, int, int]) -> float:
    return float(np.asarray(mask.crop(box), dtype=np.float32).mean())


def _luminance(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float32)


@pytest.fixture(scope="module")
def cat_mask() -> Image.Image:
    mask = subject_mask(_photo(FIXTURES / "cat.png"))
    assert mask is not None
    return mask


@pytest.fixture(scope="module")
def cup_mask() -> Image.Image:
    mask = subject_mask(_photo(FIXTURES / "coffee.png"))
    assert mask is not None
    return mask


@pytest.mark.parametrize(("name", "max_fill"), [("cat.png", 0.9), ("coffee.png", 0.85)])
def test_subject_mask_is_a_shape_not_a_rectangle(name: str, max_fill: float) -> None:
    photo = _photo(FIXTURES / name)
    mask = subject_mask(photo)
    assert mask is not None
    assert mask.mode == "L"
    assert mask.size == photo.size
    pixels = np.asarray(mask)
    assert pixels[0, 0] == pixels[0, -1] == pixels[-1, 0] == pixels[-1, -1] == 0
    assert pixels[photo.height // 2, photo.width // 2] == 255
    solid = pixels > 127
    assert 0.3 < solid.mean() < 0.8
    box = mask.point(lambda value: 255 if value > 127 else 0).getbbox()
    assert box is not None
    assert solid[box[1] : box[3], box[0] : box[2]].mean() < max_fill
    partial = (pixels > 0) & (pixels < 255)
    assert 0.002 < partial.mean() < 0.1


def test_cat_mask_keeps_the_whole_head_and_drops_the_room(cat_mask: Image.Image) -> None:
    assert _region_mean(cat_mask, CAT_FACE) > 250
    # The blurred ear and cheek at the left are out of focus, but still the cat.
    assert _region_mean(cat_mask, CAT_EAR) > 150
    assert _region_mean(cat_mask, CAT_CHEEK) > 150
    assert _region_mean(cat_mask, CAT_ROOM) < 10


def test_cup_mask_keeps_the_cup_and_drops_the_table(cup_mask: Image.Image) -> None:
    assert _region_mean(cup_mask, CUP_CREMA) > 250
    assert _region_mean(cup_mask, TABLE_LEFT) < 10
    assert _region_mean(cup_mask, TABLE_CORNER) < 10


def test_subject_mask_is_the_same_at_twelve_megapixels(cup_mask: Image.Image) -> None:
    large = _photo(FIXTURES / "coffee.png").resize((4000, 2667), Image.Resampling.BICUBIC)
    mask = subject_mask(large)
    assert mask is not None
    assert mask.size == large.size
    small = np.asarray(mask.resize(cup_mask.size, Image.Resampling.BOX)) > 127
    reference = np.asarray(cup_mask) > 127
    assert (small & reference).sum() / (small | reference).sum() > 0.95


def test_subject_mask_is_deterministic(cat_mask: Image.Image) -> None:
    again = subject_mask(_photo(FIXTURES / "cat.png"))
    assert again is not None
    assert again.tobytes() == cat_mask.tobytes()


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK"])
def test_subject_mask_accepts_other_modes(mode: str) -> None:
    photo = _photo(FIXTURES / "cat.png").convert(mode)
    mask = subject_mask(photo)
    assert mask is not None
    assert mask.size == photo.size
    assert _region_mean(mask, CAT_FACE) > 250
    assert _region_mean(mask, CAT_ROOM) < 10


def test_flat_grey_photo_has_no_subject() -> None:
    assert subject_mask(Image.new("RGB", (640, 480), (128, 128, 128))) is None


def test_busy_noise_has_no_subject() -> None:
    noise = np.random.default_rng(7).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert subject_mask(Image.fromarray(noise)) is None


@pytest.mark.parametrize("size", [(1, 1), (5, 300), (2000, 40)])
def test_subject_mask_survives_extreme_shapes(size: tuple[int, int]) -> None:
    mask = subject_mask(_photo(FIXTURES / "cat.png").resize(size))
    assert mask is None or (mask.size == size and mask.mode == "L")


@pytest.mark.parametrize("name", ["cat.png", "coffee.png", "hopper.jpg", "cameraman.png"])
def test_well_exposed_photos_are_left_alone(name: str) -> None:
    with Image.open(FIXTURES / name) as image:
        image.load()
        assert corrected(image) is image


def test_well_exposed_astronaut_is_left_alone() -> None:
    photo = _photo(ASTRONAUT)
    assert corrected(photo) is photo


def _spoiled(curve: Callable[[float], float]) -> tuple[Image.Image, Image.Image]:
    """The astronaut photo and a copy of it with ``curve`` applied to every band."""
    photo = _photo(ASTRONAUT)
    return photo, photo.point(curve)


def test_dark_photo_is_brightened_toward_normal() -> None:
    photo, dark = _spoiled(lambda value: value * 0.25)
    fixed = corrected(dark)
    assert fixed.mode == "RGB"
    assert fixed.size == dark.size
    before, after, normal = (_luminance(image).mean() for image in (dark, fixed, photo))
    assert after > before + 50
    assert abs(after - normal) < 20
    assert _luminance(fixed).std() > 2 * _luminance(dark).std()


def test_washed_out_photo_gets_its_contrast_back() -> None:
    photo, washed = _spoiled(lambda value: 140 + value * 0.45)
    fixed = corrected(washed)
    assert _luminance(fixed).std() > 1.8 * _luminance(washed).std()
    assert abs(_luminance(fixed).mean() - _luminance(photo).mean()) < 20


def test_overexposed_photo_is_darkened() -> None:
    _, bright = _spoiled(lambda value: 255 * (value / 255) ** 0.15)
    fixed = corrected(bright)
    assert _luminance(fixed).mean() < _luminance(bright).mean() - 25
    assert _luminance(fixed).std() > _luminance(bright).std()


def test_exposure_fix_keeps_alpha_and_grey_modes() -> None:
    _, dark = _spoiled(lambda value: value * 0.25)
    with_alpha = dark.convert("RGBA")
    with_alpha.putalpha(77)
    fixed = corrected(with_alpha)
    assert fixed.mode == "RGBA"
    assert set(np.asarray(fixed)[..., 3].ravel().tolist()) == {77}
    grey = corrected(dark.convert("L"))
    assert grey.mode == "L"
    assert _luminance(grey).mean() > _luminance(dark).mean() + 50
