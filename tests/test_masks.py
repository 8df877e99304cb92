"""Mask tools shared by the person and the subject cutouts."""

from __future__ import annotations

import numpy as np

from bot.figure.masks import label_blobs


def test_label_finds_four_connected_blobs() -> None:
    region = np.array(
        [
            [1, 1, 0, 1],
            [0, 1, 0, 1],
            [1, 0, 0, 1],
            [1, 1, 1, 1],
        ],
        dtype=bool,
    )
    labels = label_blobs(region)
    assert (labels[~region] == -1).all()
    assert labels[0, 0] == labels[1, 1]
    assert labels[2, 0] == labels[0, 3] == labels[3, 2]
    assert labels[0, 0] != labels[2, 0]
    assert len(np.unique(labels[region])) == 2
