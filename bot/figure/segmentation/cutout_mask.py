"""The main person's soft mask from the segmenter's map, and the soft frame used when there is nobody."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bot.figure.masks import blob_sizes, label_blobs, small_holes, smoothstep_table
from bot.figure.segmentation.letterbox import Frame

EDGE_LOW, EDGE_HIGH = 0.4, 0.8
BLOB_MIN_SHARE = 0.1
HOLE_MAX_AREA = 0.01
FALLBACK_INSET = 0.1


def _own_columns(frame: Frame, faces: list[np.ndarray]) -> np.ndarray:
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


def _clean(probability: np.ndarray, frame: Frame, faces: list[np.ndarray]) -> np.ndarray:
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


def person_mask(
    probability: np.ndarray, frame: Frame, faces: list[np.ndarray], size: tuple[int, int]
) -> Image.Image:
    """The main face's person (the first of ``faces``) as a soft-edged ``size`` mask.

    The cleaned map is cropped to the photo, upsampled once and sharpened to soft edges.
    """
    low = Image.fromarray(np.round(_clean(probability, frame, faces) * 255.0).astype(np.uint8))
    low = low.filter(ImageFilter.GaussianBlur(0.8))
    mask = low.resize(size, Image.Resampling.BICUBIC, box=frame.placement)
    return mask.point(smoothstep_table(EDGE_LOW, EDGE_HIGH))


def fallback_mask(size: tuple[int, int]) -> Image.Image:
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
