"""Fixtures shared by the tests: the database engines a store runs on, and the cutout models loaded afresh
or their runtime missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.figure.segmentation import runtime
from tests import postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    """One throwaway PostgreSQL server for the session, started on first use."""
    server = postgres.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The engine the test's stores run on, its name. ``sqlite``: the default, a file in the data folder.
    ``postgres``: a fresh database of its own on the session's server, set as ``DATABASE_URL`` so every
    ``Settings`` of the test uses it. A module runs its tests on both with
    ``pytestmark = pytest.mark.usefixtures("database")``; a test about SQLite's file alone narrows that
    with ``engine_kit.sqlite_only``."""
    if request.param == "sqlite":
        yield request.param
        return
    server: postgres.PostgresServer = request.getfixturevalue("postgres_server")
    with server.database() as url:
        monkeypatch.setenv("DATABASE_URL", url)
        yield request.param


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
