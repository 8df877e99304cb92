"""Find the person in a photo: a soft subject mask and the main face box, fully offline.

Two bundled MediaPipe models run on the CPU through ``ai_edge_litert``: the general selfie
segmenter (256x256, RGB in [0, 1]) and BlazeFace short range (128x128, RGB in [-1, 1]).
Both are loaded on first use. When they cannot run, or find nobody, the mask is a soft
rounded frame around the middle of the photo, so the whole picture becomes the diorama.
In a group photo every face is counted and the largest, most central one is the subject.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

if TYPE_CHECKING:
    from ai_edge_litert.interpreter import Interpreter

log = logging.getLogger("figurebot.segmentation")

Box = tuple[int, int, int, int]
Crop = tuple[float, float, float, float]

MODEL_DIR = Path(__file__).resolve().parent / "models"
SEGMENTER_PATH = MODEL_DIR / "selfie_segmentation.tflite"
FACE_DETECTOR_PATH = MODEL_DIR / "face_detection_short_range.tflite"

SEGMENTER_SIZE = 256
DETECTOR_SIZE = 128
FACE_MIN_SCORE = 0.5
FACE_NMS_IOU = 0.3
CONFIRM_SCALES = (2.0, 3.0)
CONFIRM_MIN_SCORE = 0.75
PERSON_MIN_FACE_COVER = 0.5
OTHER_MIN_FACE_COVER = 0.25
PERSON_MAX_FACE_AREA = 0.6
PERSON_MIN_AREA = 0.02
EDGE_LOW, EDGE_HIGH = 0.4, 0.8
BLOB_MIN_SHARE = 0.1
HOLE_MAX_AREA = 0.01
FALLBACK_INSET = 0.1
MAX_FACES = 8
CENTRE_PULL = 0.5
TILE_MIN_ASPECT = 1.3
MAX_TILES = 4


@dataclass(frozen=True)
class Cutout:
    """Where the subject is: a soft mask (255 = subject) the size of the photo, and the main face.

    ``faces`` counts the distinct faces found (0 for none, at most ``MAX_FACES``); ``face`` is the
    largest, most central one, and the mask keeps only that person. ``method`` is "model" when the
    mask is the segmented person, "fallback" when it is the frame.
    """

    mask: Image.Image
    face: Box | None
    faces: int
    person_found: bool
    method: str


@dataclass(frozen=True)
class _Frame:
    """Where a crop of the photo sits inside a square, letterboxed model input of side ``size``."""

    size: int
    crop: Crop
    left: int
    top: int
    width: int
    height: int

    @property
    def placement(self) -> tuple[int, int, int, int]:
        """The crop's area in model input pixels (left, top, right, bottom)."""
        return self.left, self.top, self.left + self.width, self.top + self.height

    def _scale(self) -> np.ndarray:
        """Model input pixels per photo pixel, along x and y."""
        left, top, right, bottom = self.crop
        return np.array([self.width / (right - left), self.height / (bottom - top)])

    def to_photo(self, box: np.ndarray) -> np.ndarray:
        """A box in 0..1 of the model input as (left, top, right, bottom) photo pixels."""
        corners = box.reshape(2, 2) * self.size - (self.left, self.top)
        return (corners / self._scale() + self.crop[:2]).reshape(4)

    def to_input(self, box: np.ndarray) -> np.ndarray:
        """A box in photo pixels as (left, top, right, bottom) model input pixels."""
        corners = (box.reshape(2, 2) - self.crop[:2]) * self._scale() + (self.left, self.top)
        return corners.reshape(4)


class _Runner:
    """One interpreter, shared by all threads: interpreters are not thread-safe, so runs take turns."""

    def __init__(self, path: Path) -> None:
        self._interpreter = _load_interpreter(path)
        source = self._interpreter.get_input_details()[0]
        self._input = source["index"]
        self._outputs = {detail["name"]: detail["index"] for detail in self._interpreter.get_output_details()}
        self._lock = threading.Lock()
        self.run(np.zeros(source["shape"], dtype=np.float32))  # fail now, not mid-request, if it cannot run

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Invoke the model on ``batch`` and return copies of its named outputs."""
        with self._lock:
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            return {name: self._interpreter.get_tensor(index) for name, index in self._outputs.items()}


@dataclass(frozen=True)
class _Models:
    """The segmenter and the face detector, shared by every thread."""

    segmenter: _Runner
    detector: _Runner


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for a moment, to hide the runtime's native INFO banner.

    The banner is printed by C++ code straight to the descriptor, which TF_CPP_MIN_LOG_LEVEL does
    not reach. Only interpreter set-up, once per process, runs inside this window.
    """
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable standard error: nothing to hide
        saved = None
    if saved is None:
        yield
        return
    try:
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _load_interpreter(path: Path) -> Interpreter:
    """A ready single-threaded LiteRT interpreter for the model at ``path``."""
    from ai_edge_litert.interpreter import Interpreter

    with _quiet_stderr():
        interpreter = Interpreter(model_path=str(path), num_threads=1)
        interpreter.allocate_tensors()
    return interpreter


_LOAD_LOCK = threading.Lock()


@functools.cache
def _cached_models() -> _Models | None:
    """Load both models once; None, after one warning, when they cannot run here."""
    try:
        return _Models(_Runner(SEGMENTER_PATH), _Runner(FACE_DETECTOR_PATH))
    except Exception as error:  # the runtime may be missing, or unable to run these models
        log.warning("person segmentation unavailable, figures guess where the face is instead: %s", error)
        return None


def _models() -> _Models | None:
    """The shared models, loaded by whichever thread asks first."""
    with _LOAD_LOCK:
        return _cached_models()


def models_available() -> bool:
    """True when the LiteRT runtime imports and both bundled models load."""
    return _models() is not None


def _letterbox(image: Image.Image, size: int, crop: Crop | None = None) -> tuple[Image.Image, _Frame]:
    """``crop`` of ``image`` (default: all of it) as RGB, fitted into a black ``size`` square."""
    crop = crop or (0.0, 0.0, float(image.width), float(image.height))
    crop_width, crop_height = crop[2] - crop[0], crop[3] - crop[1]
    scale = size / max(crop_width, crop_height)
    width = min(size, max(1, round(crop_width * scale)))
    height = min(size, max(1, round(crop_height * scale)))
    frame = _Frame(size, crop, (size - width) // 2, (size - height) // 2, width, height)
    source = image if image.mode in ("RGB", "L") else image.convert("RGB")
    small = source.resize((width, height), Image.Resampling.BILINEAR, box=crop, reducing_gap=2.0)
    square = Image.new("RGB", (size, size))
    square.paste(small.convert("RGB"), (frame.left, frame.top))
    return square, frame


def _batch(image: Image.Image, low: float, high: float) -> np.ndarray:
    """An RGB image as a float32 [1, h, w, 3] batch with values mapped from 0..255 to low..high."""
    pixels = np.asarray(image, dtype=np.float32)
    return (pixels * ((high - low) / 255.0) + low)[None]


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


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box with each of ``boxes``."""
    corner_min = np.maximum(box[:2], boxes[:, :2])
    corner_max = np.minimum(box[2:], boxes[:, 2:])
    overlap = np.prod(np.clip(corner_max - corner_min, 0.0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return overlap / np.maximum(area + areas - overlap, 1e-9)


def _merge_faces(boxes: np.ndarray, scores: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Each distinct face, most confident first: the score-weighted mean of the detections overlapping it."""
    faces = []
    free = np.ones(scores.size, dtype=bool)
    for top in np.argsort(-scores, kind="stable"):
        if free[top]:
            group = free & (_iou(boxes[top], boxes) > FACE_NMS_IOU)
            free &= ~group
            weights = scores[group] / scores[group].sum()
            faces.append(((boxes[group] * weights[:, None]).sum(axis=0), float(scores[top])))
    return faces


def _detect_faces(
    detector: _Runner, image: Image.Image, crop: Crop | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The raw detections in ``crop`` of ``image``: photo pixel boxes [n, 4] and their scores [n]."""
    square, frame = _letterbox(image, DETECTOR_SIZE, crop)
    outputs = detector.run(_batch(square, -1.0, 1.0))
    boxes, scores = _decode_faces(outputs["regressors"][0], outputs["classificators"][0])
    return np.array([frame.to_photo(box) for box in boxes]).reshape(-1, 4), scores


def _clamp(box: np.ndarray, size: tuple[int, int]) -> Crop | None:
    """A photo pixel box cut to the photo, or None when less than a pixel of it is left."""
    left, top = max(0.0, float(box[0])), max(0.0, float(box[1]))
    right, bottom = min(float(size[0]), float(box[2])), min(float(size[1]), float(box[3]))
    return (left, top, right, bottom) if right - left >= 1 and bottom - top >= 1 else None


def _around(face: np.ndarray, scale: float) -> np.ndarray:
    """A square ``scale`` times the longer side of ``face``, centred on it."""
    centre = (face[:2] + face[2:]) / 2.0
    half = float(np.max(face[2:] - face[:2])) * scale / 2.0
    return np.concatenate([centre - half, centre + half])


def _close_up(
    detector: _Runner, image: Image.Image, face: np.ndarray, scale: float
) -> tuple[np.ndarray, float] | None:
    """The face found again in a square ``scale`` times its size around it, with its score, or None."""
    crop = _clamp(_around(face, scale), image.size)
    found = _merge_faces(*_detect_faces(detector, image, crop)) if crop else []
    overlaps = [float(_iou(box, face[None])[0]) for box, _ in found]
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
        if not kept or _iou(face, np.array(kept)).max() <= FACE_NMS_IOU:
            kept.append(face)
    return kept


def _confirmed(
    detector: _Runner, image: Image.Image, candidates: list[tuple[np.ndarray, bool]]
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


def _inside(probability: np.ndarray, frame: _Frame) -> np.ndarray:
    """The segmenter's map with the letterbox padding cleared."""
    inside = np.zeros_like(probability)
    left, top, right, bottom = frame.placement
    inside[top:bottom, left:right] = probability[top:bottom, left:right]
    return inside


def _root(parent: list[int], node: int) -> int:
    """The representative of ``node`` in a union-find forest, halving the path on the way."""
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


def _run_starts(region: np.ndarray) -> np.ndarray:
    """Where each horizontal run of True pixels begins."""
    starts = region.copy()
    starts[:, 1:] &= ~region[:, :-1]
    return starts


def label_blobs(region: np.ndarray) -> np.ndarray:
    """4-connected components of a boolean map: one id per component, -1 outside ``region``.

    Each row's runs get an id; runs that touch across rows are merged with union-find. Along a
    stretch where two rows touch, both runs stay the same, so only the stretch's start is needed.
    """
    runs = np.cumsum(_run_starts(region).reshape(-1)).reshape(region.shape) - 1
    count = int(runs[-1, -1]) + 1
    links = _run_starts(region[:-1] & region[1:])
    parent = list(range(count))
    for upper, lower in zip(runs[:-1][links].tolist(), runs[1:][links].tolist(), strict=True):
        first, second = _root(parent, upper), _root(parent, lower)
        parent[max(first, second)] = min(first, second)
    roots = np.array([_root(parent, node) for node in range(count)] or [-1])
    return np.where(region, roots[runs.clip(0)], -1)


def blob_sizes(labels: np.ndarray) -> np.ndarray:
    """For each pixel, the size of its component (0 outside every component)."""
    inside = labels >= 0
    sizes = np.bincount(labels[inside], minlength=1)
    return np.where(inside, sizes[labels.clip(0)], 0)


def _largest_blob(solid: np.ndarray) -> np.ndarray:
    """The largest 4-connected blob of a boolean map (all of the largest ones on a tie)."""
    sizes = blob_sizes(label_blobs(solid))
    return (sizes == sizes.max()) & solid


def _head_crop(probability: np.ndarray, frame: _Frame, size: tuple[int, int]) -> Crop | None:
    """A square in photo pixels around where the head of the main person blob should be.

    Its side is the blob's width, at most half its height, so a small or distant person's
    face fills a useful part of the face detector's input.
    """
    blob = _largest_blob(probability > 0.5)
    rows, cols = np.nonzero(blob)
    if rows.size == 0:
        return None
    top = rows.min()
    side = max(8.0, min(cols.max() + 1 - cols.min(), (rows.max() + 1 - top) / 2))
    centre = np.nonzero(blob[top : top + int(side / 2) + 1])[1].mean()
    square = np.array([centre - side / 2, top - side * 0.15, centre + side / 2, top + side * 0.85])
    return _clamp(frame.to_photo(square / frame.size), size)


def _box_mean(probability: np.ndarray, box: np.ndarray) -> float:
    """Mean of the map inside a box given in map pixels (at least one pixel)."""
    side = probability.shape[0]
    left, top, right, bottom = np.clip(np.round(box).astype(int), 0, side)
    region = probability[top : max(bottom, top + 1), left : max(right, left + 1)]
    return float(region.mean()) if region.size else 0.0


def _plausible(
    probability: np.ndarray, frame: _Frame, face: np.ndarray, cover: float = PERSON_MIN_FACE_COVER
) -> bool:
    """A face counts when the segmenter sees a person on ``cover`` of it and it is not most of the photo."""
    box = frame.to_input(face)
    photo_area = frame.width * frame.height
    return (
        _box_mean(probability, box) >= cover
        and (box[2] - box[0]) * (box[3] - box[1]) <= PERSON_MAX_FACE_AREA * photo_area
        and float((probability > 0.5).sum()) >= PERSON_MIN_AREA * photo_area
    )


def _tiles(probability: np.ndarray, frame: _Frame, size: tuple[int, int]) -> list[Crop]:
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
        _clamp(np.array([start, top, start + side, top + side]), size)
        for start in np.linspace(left, right - side, count)
    )
    return [square for square in squares if square is not None]


def _candidates(
    detector: _Runner, image: Image.Image, probability: np.ndarray, frame: _Frame, areas: list[Crop | None]
) -> list[tuple[np.ndarray, bool]]:
    """The distinct plausible faces in ``areas`` of the photo (None: all of it), most confident first.

    Each comes with whether it may be the main face: a low-resolution person map of a wide group
    covers the other faces less well, so they need only ``OTHER_MIN_FACE_COVER``.
    """
    found = [_detect_faces(detector, image, area) for area in areas]
    boxes = np.concatenate([boxes for boxes, _ in found])
    scores = np.concatenate([scores for _, scores in found])
    faces = [
        (face, _plausible(probability, frame, face))
        for face, _ in _merge_faces(boxes, scores)
        if _plausible(probability, frame, face, OTHER_MIN_FACE_COVER)
    ]
    return faces[:MAX_FACES]


def _find_faces(
    detector: _Runner, image: Image.Image, probability: np.ndarray, frame: _Frame
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


def _own_columns(frame: _Frame, faces: list[np.ndarray]) -> np.ndarray:
    """The map's columns nearer the main face (the first) than any other, in each face's widths."""
    boxes = np.array([frame.to_input(face) for face in faces])
    centres = (boxes[:, 0] + boxes[:, 2]) / 2.0
    widths = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    distances = np.abs(np.arange(frame.size)[None, :] + 0.5 - centres[:, None]) / widths[:, None]
    return distances.argmin(axis=0) == 0


def _main_blobs(solid: np.ndarray, face_pixel: tuple[int, int]) -> np.ndarray:
    """The blobs of ``solid`` at least a tenth the size of the largest, plus the one under the face."""
    labels = label_blobs(solid)
    sizes = blob_sizes(labels)
    keep = sizes >= max(1, BLOB_MIN_SHARE * sizes.max())
    if solid[face_pixel]:
        keep |= labels == labels[face_pixel]
    return keep


def small_holes(gaps: np.ndarray, max_area: float) -> np.ndarray:
    """The parts of ``gaps`` enclosed away from the map's edge and no larger than ``max_area`` pixels."""
    ringed = np.pad(gaps, 1, constant_values=True)
    labels = label_blobs(ringed)
    holes = ringed & (labels != labels[0, 0]) & (blob_sizes(labels) <= max_area)
    return holes[1:-1, 1:-1]


def _clean(probability: np.ndarray, frame: _Frame, faces: list[np.ndarray]) -> np.ndarray:
    """The map of the main face's person: other people's sides and stray specks dropped, small holes filled.

    Side by side people are split halfway between their faces (in face widths), so a neighbour
    whose shoulder touches the main person is not kept.
    """
    box = frame.to_input(faces[0])
    side = probability.shape[0]
    face_pixel = tuple(np.clip(np.array([box[1] + box[3], box[0] + box[2]]) // 2, 0, side - 1).astype(int))
    solid = probability > EDGE_LOW
    if len(faces) > 1:
        solid &= _own_columns(frame, faces)[None, :]
    keep = _main_blobs(solid, face_pixel)
    holes = small_holes(~keep | (probability < EDGE_HIGH), HOLE_MAX_AREA * frame.width * frame.height)
    return np.where(holes, 1.0, np.where(keep, probability, 0.0)).astype(np.float32)


def smoothstep_table(low: float = EDGE_LOW, high: float = EDGE_HIGH) -> list[int]:
    """A 256-entry lookup for a clean, soft-edged mask: a smooth ramp from ``low`` to ``high`` (0..1)."""
    levels = np.clip((np.arange(256) / 255.0 - low) / (high - low), 0.0, 1.0)
    return np.round(levels * levels * (3.0 - 2.0 * levels) * 255.0).astype(int).tolist()


def _person_mask(probability: np.ndarray, frame: _Frame, size: tuple[int, int]) -> Image.Image:
    """The segmenter's map, cropped to the photo, upsampled once to ``size`` and sharpened to soft edges."""
    low = Image.fromarray(np.round(probability * 255.0).astype(np.uint8))
    low = low.filter(ImageFilter.GaussianBlur(0.8))
    mask = low.resize(size, Image.Resampling.BICUBIC, box=frame.placement)
    return mask.point(smoothstep_table())


def _fallback_mask(size: tuple[int, int]) -> Image.Image:
    """A soft-edged rounded rectangle over the middle of a ``size`` photo: the whole photo as a diorama."""
    scale = min(1.0, 256 / max(size))
    width, height = max(1, round(size[0] * scale)), max(1, round(size[1] * scale))
    short = min(width, height)
    inset_x, inset_y = width * FALLBACK_INSET, height * FALLBACK_INSET
    small = Image.new("L", (width, height), 0)
    ImageDraw.Draw(small).rounded_rectangle(
        (inset_x, inset_y, width - inset_x, height - inset_y), radius=short * 0.12, fill=255
    )
    small = small.filter(ImageFilter.GaussianBlur(max(0.5, short * 0.025)))
    return small.resize(size, Image.Resampling.BICUBIC)


def _fallback(image: Image.Image) -> Cutout:
    """The plain framed cutout used when no person can be found."""
    return Cutout(mask=_fallback_mask(image.size), face=None, faces=0, person_found=False, method="fallback")


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
    models = _models() if use_model else None
    if models is None:
        return _fallback(image)
    square, frame = _letterbox(image, SEGMENTER_SIZE)
    raw = models.segmenter.run(_batch(square, 0.0, 1.0))["activation_10"][0, :, :, 0]
    probability = _inside(raw, frame)
    faces = _find_faces(models.detector, image, probability, frame)
    if not faces:
        return _fallback(image)
    mask = _person_mask(_clean(probability, frame, faces), frame, image.size)
    face = _photo_box(faces[0], image.size)
    return Cutout(mask=mask, face=face, faces=len(faces), person_found=True, method="model")
