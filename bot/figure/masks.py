"""Mask tools shared by the person and the subject cutouts: connected blobs, small holes, soft edges."""

from __future__ import annotations

import numpy as np


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


def largest_blob(solid: np.ndarray) -> np.ndarray:
    """The largest 4-connected blob of a boolean map (all of the largest ones on a tie)."""
    sizes = blob_sizes(label_blobs(solid))
    return (sizes == sizes.max()) & solid


def small_holes(gaps: np.ndarray, max_area: float) -> np.ndarray:
    """The parts of ``gaps`` enclosed away from the map's edge and no larger than ``max_area`` pixels."""
    ringed = np.pad(gaps, 1, constant_values=True)
    labels = label_blobs(ringed)
    holes = ringed & (labels != labels[0, 0]) & (blob_sizes(labels) <= max_area)
    return holes[1:-1, 1:-1]


def smoothstep_table(low: float, high: float) -> list[int]:
    """A 256-entry lookup for a clean, soft-edged mask: a smooth ramp from ``low`` to ``high`` (0..1)."""
    levels = np.clip((np.arange(256) / 255.0 - low) / (high - low), 0.0, 1.0)
    return np.round(levels * levels * (3.0 - 2.0 * levels) * 255.0).astype(int).tolist()
