"""The offline toy: costumes as data, the user's costume words, poses per variant, and the figure's shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.boxart.compose import figure_limit
from bot.boxart.layout import layout_for
from bot.figure.headgear import draws
from bot.figure.outfit import EXTRAS, outfit_for, theme_outfit
from bot.figure.pose import pose_for
from bot.figure.segmentation.person import find_person
from bot.figure.toy import Held, build_person
from bot.themes import catalog, find_theme

ROOT = Path(__file__).resolve().parent.parent
PERSON = ROOT / "examples" / "astronaut.png"
LIMIT = figure_limit("blister", (1024, 1536))


def test_every_catalog_theme_has_a_costume_that_can_be_drawn() -> None:
    outfits = {key: theme_outfit(theme) for key, theme in catalog().items()}
    for outfit in outfits.values():
        assert draws(outfit.headgear)
        assert outfit.extras <= EXTRAS
    # Themes are told apart by what they wear, not just by the box.
    assert len({(o.top, o.top_colour, o.headgear) for o in outfits.values()}) == len(outfits)


def test_costume_words_change_parts_and_colours() -> None:
    pirate = find_theme("pirate")
    dressed = outfit_for(pirate, "red cape and golden armour")
    assert dressed.undrawn == ()
    assert dressed.outfit.cape_colour == (214, 40, 40)
    assert (dressed.outfit.top, dressed.outfit.top_colour) == ("armour", (255, 195, 0))
    assert outfit_for(pirate, "").outfit.top == "coat"
    assert outfit_for(pirate, "chef's hat, lab coat").outfit.headgear == "toque"
    assert outfit_for(pirate, "Lab Coat").outfit.top_colour == (251, 251, 251)


def test_words_that_cannot_be_drawn_are_returned_once_in_order() -> None:
    dressed = outfit_for(find_theme("astronaut"), "jetpack, a blue cape and a hoverboard, jetpack")
    assert dressed.undrawn == ("jetpack", "hoverboard")
    assert dressed.outfit.cape_colour == (29, 78, 216)


def test_free_text_theme_gets_a_costume_from_its_colours_and_words() -> None:
    beekeeper = find_theme("beekeeper")
    assert theme_outfit(beekeeper).top_colour == beekeeper.palette.accent
    crowned = theme_outfit(find_theme("Crown Jewels Day"))
    assert crowned.headgear == "crown"


def test_poses_differ_by_variant_and_repeat_for_the_same_one() -> None:
    poses = [pose_for(variant) for variant in range(1, 7)]
    assert len({(pose.hands, pose.ankles) for pose in poses}) == len(poses)
    assert pose_for(3) == pose_for(3)


@pytest.fixture(scope="module")
def astronaut_figure() -> Image.Image:
    image = Image.open(PERSON).convert("RGB")
    cutout = find_person(image)
    assert cutout.face is not None
    outfit = theme_outfit(find_theme("astronaut"))
    return build_person(
        image, cutout.mask, cutout.face, outfit, pose_for(1), Held("Sword", "🗡️", (200, 0, 0)), LIMIT
    )


def test_a_bust_photo_gives_a_whole_standing_figure(astronaut_figure: Image.Image) -> None:
    figure = astronaut_figure
    _, top, _, bottom = layout_for("blister", (1024, 1536)).window
    assert figure.width <= LIMIT[0] and figure.height <= LIMIT[1]
    assert figure.height >= 0.75 * (bottom - top)
    alpha = np.asarray(figure.getchannel("A")) > 128
    # Two legs: at knee height the solid columns form two separate runs, apart from the stand's thin peg.
    knees = alpha[int(figure.height * 0.72)]
    runs = np.flatnonzero(np.diff(knees.astype(np.int8)) == 1)
    assert len(runs) >= 2
    # Feet on a stand: the bottom rows are wider than the legs (the stand's base).
    base_width = alpha[int(figure.height * 0.97)].sum()
    assert base_width > knees.sum()


@pytest.mark.parametrize("variant", [1, 2])
def test_every_costume_and_pose_fills_three_quarters_of_the_window(variant: int) -> None:
    image = Image.open(PERSON).convert("RGB")
    cutout = find_person(image)
    assert cutout.face is not None
    _, top, _, bottom = layout_for("blister", (1024, 1536)).window
    for key, theme in catalog().items():
        outfit = theme_outfit(theme)
        figure = build_person(image, cutout.mask, cutout.face, outfit, pose_for(variant), None, LIMIT)
        assert figure.width <= LIMIT[0] and figure.height <= LIMIT[1], key
        assert figure.height >= 0.75 * (bottom - top), key
