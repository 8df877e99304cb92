"""Fixtures shared by the renderer's tests: the cutout models loaded afresh, or their runtime missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.figure.segmentation import runtime


@pytest.fixture
def fresh_models() -> Iterator[None]:
    """Forget the loaded models before and after the test, so it can change how they load."""
    runtime._cached_models.cache_clear()
    yield
    runtime._cached_models.cache_clear()


@pytest.fixture
def runtime_missing(monkeypatch: pytest.MonkeyPatch, fresh_models: None) -> None:
    """The models' runtime cannot be imported, as on a platform without its wheel."""

    def no_runtime(path: Path) -> None:
        raise ImportError("No module named 'ai_edge_litert'")

    monkeypatch.setattr(runtime, "_load_interpreter", no_runtime)
