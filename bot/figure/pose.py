"""How the toy stands: a small skeleton in head units, one pose per variant (Re-roll number).

Coordinates are in heads: x to the viewer's right of the figure's centre line, y down from the top of
the head. Angles are degrees from straight down, positive away from the body.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from bot.figure.plastic import Light

Point = tuple[float, float]

SHOULDER = (0.66, 1.36)
HIP = (0.3, 2.62)
UPPER_ARM, FOREARM = 0.95, 0.82
THIGH, SHIN = 1.12, 1.08
CHIN_Y = 1.1


@dataclass(frozen=True)
class Arm:
    """One arm's angles: the upper arm from straight down, the forearm relative to it."""

    shoulder: float
    elbow: float


@dataclass(frozen=True)
class Stance:
    """A named pose: both arms, the legs' spread and bend, and which hand holds the accessory."""

    name: str
    left: Arm
    right: Arm
    spread: float  # hip angle of each leg, degrees outward
    knee: float  # bend of the bent leg's knee, degrees
    bent_leg: int  # -1 left, 1 right
    holding: int  # the hand with the accessory: 0 left, 1 right


# Variant 1 is the first of these; later variants take the next, with small personal differences.
STANCES = (
    Stance("hero", Arm(16, 4), Arm(20, 78), 7, 0, 1, 1),
    Stance("wave", Arm(22, 60), Arm(150, 10), 9, 8, -1, 0),
    Stance("hands on hips", Arm(38, -92), Arm(24, 70), 10, 0, 1, 1),
    Stance("stride", Arm(10, 18), Arm(26, 40), 12, 16, 1, 1),
    Stance("show", Arm(18, 6), Arm(30, 110), 5, 6, -1, 1),
)


@dataclass(frozen=True)
class Pose:
    """Where every joint is (in heads), the hand holding the accessory, and the light."""

    stance: str
    neck: Point
    shoulders: tuple[Point, Point]
    elbows: tuple[Point, Point]
    hands: tuple[Point, Point]
    hips: tuple[Point, Point]
    knees: tuple[Point, Point]
    ankles: tuple[Point, Point]
    holding: int  # index into hands of the hand with the accessory
    light: Light


def _step(start: Point, angle: float, side: int, length: float) -> Point:
    """The joint ``length`` heads from ``start`` at ``angle`` on ``side`` (-1 left, 1 right)."""
    radians = math.radians(angle)
    return start[0] + side * math.sin(radians) * length, start[1] + math.cos(radians) * length


def _arm(side: int, arm: Arm) -> tuple[Point, Point, Point]:
    shoulder = (side * SHOULDER[0], SHOULDER[1])
    elbow = _step(shoulder, arm.shoulder, side, UPPER_ARM)
    hand = _step(elbow, arm.shoulder + arm.elbow, side, FOREARM)
    return shoulder, elbow, hand


def _leg(side: int, spread: float, knee_bend: float) -> tuple[Point, Point, Point]:
    hip = (side * HIP[0], HIP[1])
    knee = _step(hip, spread + knee_bend * 0.5, side, THIGH)
    ankle = _step(knee, spread - knee_bend * 0.5, side, SHIN)
    return hip, knee, ankle


def _mirror(stance: Stance) -> Stance:
    return Stance(
        stance.name,
        stance.right,
        stance.left,
        stance.spread,
        stance.knee,
        -stance.bent_leg,
        1 - stance.holding,
    )


def pose_for(variant: int) -> Pose:
    """The pose of ``variant`` (1 = the first take): the same number always gives the same pose."""
    chance = random.Random(f"figurebot-pose-{variant}")
    stance = STANCES[(variant - 1) % len(STANCES)]
    if variant > 1 and chance.random() < 0.5:
        stance = _mirror(stance)
    wobble = 0.0 if variant == 1 else 1.0

    def arm(base: Arm) -> Arm:
        return Arm(
            base.shoulder + chance.uniform(-5, 5) * wobble, base.elbow + chance.uniform(-8, 8) * wobble
        )

    left, right = _arm(-1, arm(stance.left)), _arm(1, arm(stance.right))
    spread = stance.spread + chance.uniform(-2, 3) * wobble
    legs = [_leg(side, spread, stance.knee if side == stance.bent_leg else 0) for side in (-1, 1)]
    side_light = chance.choice((-1, 1)) if variant > 1 else -1
    light = Light(direction=(0.45 * side_light, -0.6, 0.66))
    return Pose(
        stance=stance.name,
        neck=(0.0, CHIN_Y),
        shoulders=(left[0], right[0]),
        elbows=(left[1], right[1]),
        hands=(left[2], right[2]),
        hips=(legs[0][0], legs[1][0]),
        knees=(legs[0][1], legs[1][1]),
        ankles=(legs[0][2], legs[1][2]),
        holding=stance.holding,
        light=light,
    )
