"""Building blocks for engine tests: a real store (a SQLite file in a temp folder, or the Postgres database
of the ``database`` fixture), and scripted generators."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adapters.console import ConsoleAdapter
from bot.app import PlatformAdapter
from bot.challenges import ChallengeService
from bot.config import Settings
from bot.engine import JobEngine
from bot.generators.base import Painted, ProgressCallback
from bot.intake import Photo
from bot.jobs import Job, JobEvent, Requester, Status
from bot.privacy import Vault, load_key
from bot.spec import FigureSpec, make_spec
from bot.store.repository import Store

ROOT = Path(__file__).resolve().parent.parent
PERSON = ROOT / "examples" / "astronaut.png"


@dataclass
class ScriptedGenerator:
    """A generator that plays a script: each call takes the next step (an exception to raise, or None to
    succeed after ``delay`` seconds). It records which names (and specs) it painted and the photos it was
    given; ``notes`` go with each figure, for the user."""

    name: str = "scripted"
    sends_photo_off_machine: bool = False
    concurrency: int | None = 1
    daily_quota_per_user: int = 100
    daily_quota_per_chat: int = 1000
    cost_estimate_usd: float = 0.0
    delay: float = 0.0
    cost: float = 0.0  # reported with each figure (as a Painted)
    stand_in: str | None = None
    notes: tuple[str, ...] = ()
    script: list[Exception | None] = field(default_factory=list)
    painted: list[str] = field(default_factory=list)
    specs: list[FigureSpec] = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    async def generate(
        self,
        photo: Photo,
        spec: FigureSpec,
        on_progress: ProgressCallback | None = None,
        requester: str = "",
    ) -> Image.Image | Painted:
        self.started.append(spec.name)
        self.photos.append(photo)
        step = self.script.pop(0) if self.script else None
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled.append(spec.name)
            raise
        if step is not None:
            raise step
        self.painted.append(spec.name)
        self.specs.append(spec)
        image = Image.new("RGB", (64, 96), (200, 40, 40))
        reported = self.cost or self.stand_in or self.notes
        return Painted(image, self.cost, self.stand_in, self.notes) if reported else image


# Narrows a test of a module that runs on both engines (the ``database`` fixture) to SQLite alone.
sqlite_only = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def settings_for(tmp_path: Path, **values: Any) -> Settings:
    """Settings with the data folder in ``tmp_path`` (and the store there, unless ``DATABASE_URL`` names
    one); ``values`` override (field names)."""
    defaults: dict[str, Any] = {
        "figurebot_data_dir": tmp_path / "data",
        "figurebot_generator": "scripted",
        "worker_concurrency": 1,
        "retry_base_delay": 0.01,
        "purge_interval": 3600,
        "shutdown_grace": 1.0,
    }
    return Settings(_env_file=None, **{**defaults, **values})


class Clock:
    """A clock the test moves by hand (Unix seconds)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Rig:
    engine: JobEngine
    store: Store
    console: ConsoleAdapter
    generator: ScriptedGenerator
    settings: Settings

    def requester(self, user: str = "you", chat: str = "terminal") -> Requester:
        return Requester("console", user, chat)

    async def said_until(self, predicate: Callable[[str], bool], timeout: float = 10.0) -> list[str]:
        """Everything the bot said up to and including the first line matching ``predicate``."""
        lines: list[str] = []
        while True:
            lines.append(await self.console.pop(timeout))
            if predicate(lines[-1]):
                return lines


def recorded(r: Rig) -> list[JobEvent]:
    """Every event the engine sends the rig's console from now on, kept in a list as it goes."""
    events: list[JobEvent] = []
    console = r.engine._subscribers["console"]

    async def keep(event: JobEvent) -> None:
        events.append(event)
        await console(event)

    r.engine.subscribe("console", keep)
    return events


async def eventually(check: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll ``check()`` (plain or awaitable) until it is true or ``timeout`` passes; the asserts that
    follow say what was expected."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while not await _value(check()):
                await asyncio.sleep(0.02)


async def _value(result: object) -> object:
    return await result if inspect.isawaitable(result) else result


async def wait_until(store: Store, job_id: str, check: Callable[[Job], bool], timeout: float = 10.0) -> Job:
    """Poll the stored job until ``check(job)`` holds; the job (``TimeoutError`` if it never does)."""

    async def poll() -> Job:
        while (job := await store.jobs.get(job_id)) is None or not check(job):
            await asyncio.sleep(0.02)
        return job

    return await asyncio.wait_for(poll(), timeout)


async def wait_for_status(store: Store, job_id: str, status: Status) -> Job:
    return await wait_until(store, job_id, lambda job: job.status is status)


def photo() -> Photo:
    with Image.open(PERSON) as image:
        return Photo(image.convert("RGB"), "PNG")


def spec(name: str = "Alex") -> FigureSpec:
    return make_spec(name=name, theme="astronaut")


@asynccontextmanager
async def rig(
    tmp_path: Path,
    generator: ScriptedGenerator | None = None,
    clock: Callable[[], float] | None = None,
    start: bool = True,
    others: tuple[ScriptedGenerator, ...] = (),
    **values: Any,
) -> AsyncIterator[Rig]:
    """An engine on a real store (see ``settings_for``) with the in-memory console platform subscribed;
    ``generator`` is the default, ``others`` run beside it."""
    settings = settings_for(tmp_path, **values)
    generator = generator or ScriptedGenerator()
    store = await Store.open(settings.database, Vault(load_key(settings)))
    options = {"clock": clock} if clock else {}
    generators = {each.name: each for each in (generator, *others)}
    engine = JobEngine(store, generators, settings, **options)
    console = ConsoleAdapter(engine, tmp_path / "figures")
    if start:
        await engine.start()
    try:
        yield Rig(engine, store, console, generator, settings)
    finally:
        await engine.stop(grace=0)
        await store.close()


@asynccontextmanager
async def serving_platform(
    settings: Settings,
    generator: ScriptedGenerator,
    make_adapter: Callable[[JobEngine, ChallengeService], PlatformAdapter],
    clock: Callable[[], float] | None = None,
    others: tuple[ScriptedGenerator, ...] = (),
) -> AsyncIterator[tuple[JobEngine, Store, ChallengeService, Any]]:
    """A chat platform's adapter serving over an engine on a real store, the engine and the challenges
    on ``clock`` (real time by default), wired as ``figurebot run`` does: the adapter first (it
    subscribes), then the engine and the challenges, then ``serve()``; everything stopped when the block
    ends. ``generator`` is the default, ``others`` run beside it."""
    store = await Store.open(settings.database, Vault(load_key(settings)))
    generators = {each.name: each for each in (generator, *others)}
    engine = JobEngine(store, generators, settings, **({"clock": clock} if clock else {}))
    challenges = ChallengeService(engine, store.challenges)
    adapter = make_adapter(engine, challenges)
    await engine.start()
    await challenges.start()
    serving = asyncio.create_task(adapter.serve())
    try:
        yield engine, store, challenges, adapter
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        await challenges.stop()
        await engine.stop(grace=0)
        await store.close()
