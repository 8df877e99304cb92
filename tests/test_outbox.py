"""The outbox through the engine on a real SQLite store: each finished job delivered once, again after an
outage or a restart (rebuilt from the store, notes and all), and a platform not connected yet waited for
quietly."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.jobs import EventKind, JobEvent, Status
from bot.outbox import FIGURE_EXPIRED
from tests.engine_kit import (
    Clock,
    ScriptedGenerator,
    photo,
    rig,
    spec,
    wait_for_status,
)

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres


class FlakyPlatform:
    """A platform that is down for its first ``failures`` deliveries."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.delivered: list[str] = []

    async def __call__(self, event) -> None:
        if event.kind.value != "done":
            return
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform down")
        self.delivered.append(event.job.id)


async def test_a_finished_job_is_delivered_once_after_the_platform_comes_back(tmp_path: Path) -> None:
    platform = FlakyPlatform(failures=1)
    async with rig(tmp_path) as r:
        r.engine.subscribe("console", platform)
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await wait_for_status(r.store, submitted.job_id, Status.DONE)
        await asyncio.sleep(0.05)
        assert platform.delivered == [] and (await r.store.jobs.get(submitted.job_id)).delivered_at is None
    async with rig(tmp_path, start=False) as r:  # a restart: delivery happens at start, once
        r.engine.subscribe("console", platform)
        await r.engine.start()
        assert platform.delivered == [submitted.job_id]
        assert await r.engine.redeliver() == 0
        assert platform.delivered == [submitted.job_id]


async def test_a_figure_that_expired_undelivered_is_reported_once(tmp_path: Path) -> None:
    clock = Clock()
    platform = FlakyPlatform(failures=1)
    async with rig(tmp_path, clock=clock, figure_retention=60) as r:
        r.engine.subscribe("console", platform)
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await wait_for_status(r.store, submitted.job_id, Status.DONE)
        clock.advance(61)
        await r.engine.purge()
        seen: list[str] = []

        async def record(event) -> None:
            seen.append(f"{event.kind.value}: {event.reason}")

        r.engine.subscribe("console", record)
        assert await r.engine.redeliver() == 1
        assert await r.engine.redeliver() == 0
        assert seen == [f"failed: {FIGURE_EXPIRED}"]


async def test_a_platform_not_connected_yet_makes_deliveries_wait_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.errors import PlatformNotReady

    connected = False
    delivered = []

    async def platform(event):
        if not connected:
            raise PlatformNotReady("still connecting")
        delivered.append(event.kind)

    async with rig(tmp_path) as r:
        r.engine.subscribe("console", platform)
        with caplog.at_level(logging.INFO, logger="figurebot"):
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            await wait_for_status(r.store, submitted.job_id, Status.DONE)
        engine = [record for record in caplog.records if record.name.startswith("figurebot.engine")]
        assert [record for record in engine if record.levelno >= logging.WARNING] == []
        connected = True
        assert await r.engine.redeliver() == 1
        assert delivered[-1].value == "done"


async def test_the_generators_notes_are_kept_with_the_figure_and_told(tmp_path: Path) -> None:
    notes = ("I could not draw: jetpack", "I used the person in the middle; crop the photo to choose.")
    events: list[JobEvent] = []

    async def down_once(event: JobEvent) -> None:
        if event.kind is EventKind.DONE:
            events.append(event)
            if len(events) == 1:
                raise ConnectionError("platform down")

    async with rig(tmp_path, ScriptedGenerator(notes=notes)) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        said = await r.said_until(lambda line: "jetpack" in line)
        assert said[-2].startswith(f"{submitted.job_id}: done → ")
        assert said[-1] == f"{submitted.job_id}: I could not draw: jetpack"
        assert await r.console.pop() == f"{submitted.job_id}: {notes[1]}"
        assert (await r.store.jobs.get(submitted.job_id)).notes == notes

        r.engine.subscribe("console", down_once)
        second = await r.engine.submit(r.requester(), photo(), spec())
        await wait_for_status(r.store, second.job_id, Status.DONE)
        assert await r.engine.redeliver() == 1  # rebuilt from the store, notes and all
        assert [event.job.notes for event in events] == [notes, notes]
