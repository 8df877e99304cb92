"""The cutout of the person in a photo: their soft mask and main face, or a soft frame when there is none."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from bot.figure.segmentation.cutout_mask import fallback_mask, person_mask
from bot.figure.segmentation.faces import find_faces
from bot.figure.segmentation.letterbox import Frame, letterbox, to_batch
from bot.figure.segmentation.runtime import shared_models

Box = tuple[int, int, int, int]

SEGMENTER_SIZE = 256


@dataclass(frozen=True)
class Cutout:
    """Where the subject is: a soft mask (255 = subject) the size of the photo, and the main face.

    ``faces`` counts the distinct faces found (0 for none, at most ``faces.MAX_FACES``); ``face`` is the
    largest, most central one, and the mask keeps only that person. ``method`` is "model" when the
    mask is the segmented person, "fallback" when it is the frame.
    """

    mask: Image.Image
    face: Box | None
    faces: int
    person_found: bool
    method: str


def _inside(probability: np.ndarray, frame: Frame) -> np.ndarray:
    """The segmenter's map with the letterbox padding cleared."""
    inside = np.zeros_like(probability)
    left, top, right, bottom = frame.placement
    inside[top:bottom, left:right] = probability[top:bottom, left:right]
    return inside


def _fallback(image: Image.Image) -> Cutout:
    """The plain framed cutout used when no person can be found."""
    return Cutout(mask=fallback_mask(image.size), face=None, faces=0, person_found=False, method="fallback")


def _photo_box(face: np.ndarray, size: tuple[int, int]) -> Box:
    """A float photo box as whole pixels, clamped to the photo."""
    left, top, right, bottom = np.round(face).astype(int).tolist()
    width, height = size
    return max(0, left), max(0, top), min(width, right), min(height, bottom)


def find_person(image: Image.Image, *, use_model: bool = True) -> Cutout:
    """Segment the person in ``image`` and find their face; fall back to a soft frame when there is none.

    The fallback is used when ``use_model`` is False, when the models cannot run here, and when
    no face is confirmed on a segmented person (animals, objects, scenes). In a group photo the
    subject is the person with the largest, most central face.
    """
    models = shared_models() if use_model else None
    if models is None:
        return _fallback(image)
    square, frame = letterbox(image, SEGMENTER_SIZE)
    raw = models.segmenter.run(to_batch(square, 0.0, 1.0))["activation_10"][0, :, :, 0]
    probability = _inside(raw, frame)
    faces = find_faces(models.detector, image, probability, frame)
    if not faces:
        return _fallback(image)
    mask = person_mask(probability, frame, faces, image.size)
    face = _photo_box(faces[0], image.size)
    return Cutout(mask=mask, face=face, faces=len(faces), person_found=True, method="model")
