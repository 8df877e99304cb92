"""The faces of the people the segmenter sees, each confirmed close up, the largest, most central first."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from bot.figure.masks import largest_blob
from bot.figure.segmentation.blazeface import FACE_NMS_IOU, detect_faces, iou, merge_faces
from bot.figure.segmentation.letterbox import Crop, Frame, clamp_crop
from bot.figure.segmentation.runtime import Runner

CONFIRM_SCALES = (2.0, 3.0)
CONFIRM_MIN_SCORE = 0.75
PERSON_MIN_FACE_COVER = 0.5
OTHER_MIN_FACE_COVER = 0.25
PERSON_MAX_FACE_AREA = 0.6
PERSON_MIN_AREA = 0.02
MAX_FACES = 8
CENTRE_PULL = 0.5
TILE_MIN_ASPECT = 1.3
MAX_TILES = 4


def _around(face: np.ndarray, scale: float) -> np.ndarray:
    """A square ``scale`` times the longer side of ``face``, centred on it."""
    centre = (face[:2] + face[2:]) / 2.0
    half = float(np.max(face[2:] - face[:2])) * scale / 2.0
    return np.concatenate([centre - half, centre + half])


def _close_up(
    detector: Runner, image: Image.Image, face: np.ndarray, scale: float
) -> tuple[np.ndarray, float] | None:
    """The face found again in a square ``scale`` times its size around it, with its score, or None."""
    crop = clamp_crop(_around(face, scale), image.size)
    found = merge_faces(*detect_faces(detector, image, crop)) if crop else []
    overlaps = [float(iou(box, face[None])[0]) for box, _ in found]
    best = int(np.argmax(overlaps)) if overlaps else -1
    return found[best] if best >= 0 and overlaps[best] > FACE_NMS_IOU else None


def _prominence(face: np.ndarray, size: tuple[int, int]) -> float:
    """A face's width, less up to ``CENTRE_PULL`` of it the farther it sits from the photo's centre."""
    half = np.array(size, dtype=np.float64) / 2.0
    offset = np.linalg.norm(((face[:2] + face[2:]) / 2.0 - half) / half) / math.sqrt(2.0)
    return float(face[2] - face[0]) * (1.0 - CENTRE_PULL * min(1.0, float(offset)))


def _distinct(faces: list[np.ndarray]) -> list[np.ndarray]:
    """``faces`` without any that overlaps an earlier one."""
    kept: list[np.ndarray] = []
    for face in faces:
        if not kept or iou(face, np.array(kept)).max() <= FACE_NMS_IOU:
            kept.append(face)
    return kept


def _confirmed(
    detector: Runner, image: Image.Image, candidates: list[tuple[np.ndarray, bool]]
) -> list[np.ndarray]:
    """The candidate faces that close-up looks agree on, main face first; empty when there is no main face.

    BlazeFace is most reliable when the face fills a good part of its input, and its false
    alarms on fur, food or texture rarely survive being looked at again at another scale. Every
    candidate gets one close-up look. The main face is the most prominent candidate that may be
    one (its flag) and passes a second look at another framing; the others count when their one
    look is confident.
    """
    if not any(may_lead for _, may_lead in candidates):
        return []
    near = [
        (face, may_lead, found)
        for face, may_lead in candidates
        if (found := _close_up(detector, image, face, CONFIRM_SCALES[0])) is not None
    ]
    near.sort(key=lambda entry: -_prominence(entry[2][0], image.size))
    for index, (face, may_lead, (box, score)) in enumerate(near):
        far = _close_up(detector, image, face, CONFIRM_SCALES[1]) if may_lead else None
        if far is not None and (score + far[1]) / 2.0 >= CONFIRM_MIN_SCORE:
            others = [
                other
                for position, (_, may_lead, (other, confidence)) in enumerate(near)
                if (position > index or not may_lead) and confidence >= CONFIRM_MIN_SCORE
            ]
            return _distinct([box, *others])
    return []


def _head_crop(probability: np.ndarray, frame: Frame, size: tuple[int, int]) -> Crop | None:
    """A square in photo pixels around where the head of the main person blob should be.

    Its side is the blob's width, at most half its height, so a small or distant person's
    face fills a useful part of the face detector's input.
    """
    blob = largest_blob(probability > 0.5)
    rows, cols = np.nonzero(blob)
    if rows.size == 0:
        return None
    top = rows.min()
    side = max(8.0, min(cols.max() + 1 - cols.min(), (rows.max() + 1 - top) / 2))
    centre = np.nonzero(blob[top : top + int(side / 2) + 1])[1].mean()
    square = np.array([centre - side / 2, top - side * 0.15, centre + side / 2, top + side * 0.85])
    return clamp_crop(frame.to_photo(square / frame.size), size)


def _box_mean(probability: np.ndarray, box: np.ndarray) -> float:
    """Mean of the map inside a box given in map pixels (at least one pixel)."""
    side = probability.shape[0]
    left, top, right, bottom = np.clip(np.round(box).astype(int), 0, side)
    region = probability[top : max(bottom, top + 1), left : max(right, left + 1)]
    return float(region.mean()) if region.size else 0.0


def _plausible(
    probability: np.ndarray, frame: Frame, face: np.ndarray, cover: float = PERSON_MIN_FACE_COVER
) -> bool:
    """A face counts when the segmenter sees a person on ``cover`` of it and it is not most of the photo."""
    box = frame.to_input(face)
    photo_area = frame.width * frame.height
    return (
        _box_mean(probability, box) >= cover
        and (box[2] - box[0]) * (box[3] - box[1]) <= PERSON_MAX_FACE_AREA * photo_area
        and float((probability > 0.5).sum()) >= PERSON_MIN_AREA * photo_area
    )


def _tiles(probability: np.ndarray, frame: Frame, size: tuple[int, int]) -> list[Crop]:
    """Overlapping squares along the top of a wide group of people, so that each face fills more of one.

    Empty when the people are not at least ``TILE_MIN_ASPECT`` times wider than tall: then the
    look at the whole photo sees their faces well enough.
    """
    rows, cols = np.nonzero(probability > 0.5)
    if rows.size == 0:
        return []
    box = np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], dtype=np.float64)
    left, top, right, bottom = frame.to_photo(box / frame.size)
    width, height = right - left, bottom - top
    if width < TILE_MIN_ASPECT * height:
        return []
    side = max(min(height, width / 2.0), width / (MAX_TILES - 1))
    count = min(MAX_TILES, math.ceil(width / side) + 1)
    squares = (
        clamp_crop(np.array([start, top, start + side, top + side]), size)
        for start in np.linspace(left, right - side, count)
    )
    return [square for square in squares if square is not None]


def _candidates(
    detector: Runner, image: Image.Image, probability: np.ndarray, frame: Frame, areas: list[Crop | None]
) -> list[tuple[np.ndarray, bool]]:
    """The distinct plausible faces in ``areas`` of the photo (None: all of it), most confident first.

    Each comes with whether it may be the main face: a low-resolution person map of a wide group
    covers the other faces less well, so they need only ``OTHER_MIN_FACE_COVER``.
    """
    found = [detect_faces(detector, image, area) for area in areas]
    boxes = np.concatenate([boxes for boxes, _ in found])
    scores = np.concatenate([scores for _, scores in found])
    faces = [
        (face, _plausible(probability, frame, face))
        for face, _ in merge_faces(boxes, scores)
        if _plausible(probability, frame, face, OTHER_MIN_FACE_COVER)
    ]
    return faces[:MAX_FACES]


def find_faces(
    detector: Runner, image: Image.Image, probability: np.ndarray, frame: Frame
) -> list[np.ndarray]:
    """The faces that the segmenter and close-up looks agree on, as photo pixel boxes, the main face first.

    The search covers the whole photo, with squares along a wide group; only when that confirms
    nobody, a square around the head of the largest person blob.
    """
    areas: list[Crop | None] = [None, *_tiles(probability, frame, image.size)]
    faces = _confirmed(detector, image, _candidates(detector, image, probability, frame, areas))
    head = None if faces else _head_crop(probability, frame, image.size)
    if head is None:
        return faces
    return _confirmed(detector, image, _candidates(detector, image, probability, frame, [head]))
