"""BlazeFace short range: run the detector on a crop of the photo and merge its raw detections."""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from bot.figure.segmentation.letterbox import Crop, letterbox, to_batch
from bot.figure.segmentation.runtime import Runner

DETECTOR_SIZE = 128
FACE_MIN_SCORE = 0.5
FACE_NMS_IOU = 0.3


@functools.cache
def _anchors() -> np.ndarray:
    """BlazeFace short-range SSD anchor centres, [896, 2] as (x, y) in 0..1, in the model's output order."""
    layers = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = DETECTOR_SIZE // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        layers.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(layers).astype(np.float32)


def _decode_faces(regressors: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes [n, 4] (left, top, right, bottom in 0..1 of the input) and scores [n] above the threshold."""
    probability = 1.0 / (1.0 + np.exp(-np.clip(scores.reshape(-1).astype(np.float64), -100.0, 100.0)))
    keep = probability >= FACE_MIN_SCORE
    raw = regressors.reshape(-1, regressors.shape[-1])[keep, :4] / DETECTOR_SIZE
    centres = raw[:, :2] + _anchors()[keep]
    half = raw[:, 2:4] / 2.0
    return np.concatenate([centres - half, centres + half], axis=1), probability[keep]


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box with each of ``boxes``."""
    corner_min = np.maximum(box[:2], boxes[:, :2])
    corner_max = np.minimum(box[2:], boxes[:, 2:])
    overlap = np.prod(np.clip(corner_max - corner_min, 0.0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return overlap / np.maximum(area + areas - overlap, 1e-9)


def merge_faces(boxes: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Each distinct face, most confident first: the score-weighted mean of the detections overlapping it."""
    faces = []
    free = np.ones(scores.size, dtype=bool)
    for top in np.argsort(-scores, kind="stable"):
        if free[top]:
            group = free & (iou(boxes[top], boxes) > FACE_NMS_IOU)
            free &= ~group
            weights = scores[group] / scores[group].sum()
            faces.append(((boxes[group] * weights[:, None]).sum(axis=0), float(scores[top])))
    return faces


def detect_faces(
    detector: Runner, image: Image.Image, crop: Crop | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The raw detections in ``crop`` of ``image``: photo pixel boxes [n, 4] and their scores [n]."""
    square, frame = letterbox(image, DETECTOR_SIZE, crop)
    outputs = detector.run(to_batch(square, -1.0, 1.0))
    boxes, scores = _decode_faces(outputs["regressors"][0], outputs["classificators"][0])
    return np.array([frame.to_photo(box) for box in boxes]).reshape(-1, 4), scores
