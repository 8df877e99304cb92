"""The job queue: fair order through the engine on a real SQLite store, and an engine given a queue of
its own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.engine import JobEngine
from bot.generators.base import Transient
from bot.jobs import EventKind, JobEvent, Requester, Status
from bot.privacy import Vault
from bot.queue import Claimed, JobQueue, StoreQueue
from bot.store.repository import Store
from tests.engine_kit import (
    ScriptedGenerator,
    photo,
    rig,
    settings_for,
    spec,
    wait_for_status,
)

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres


async def test_a_heavy_user_does_not_delay_a_light_one(tmp_path: Path) -> None:
    generator = ScriptedGenerator(delay=0.05)
    async with rig(tmp_path, generator, start=False, max_active_jobs_per_user=0) as r:
        for i in range(8):
            await r.engine.submit(r.requester("heavy"), photo(), spec(f"heavy-{i}"))
        light = await r.engine.submit(r.requester("light"), photo(), spec("light"))
        assert light.position == 2  # behind the heavy user's first job only
        await r.engine.start()
        await wait_for_status(r.store, light.job_id, Status.DONE)
        assert generator.started[:2] == ["heavy-0", "light"]


async def test_a_running_job_counts_as_a_turn(tmp_path: Path) -> None:
    generator = ScriptedGenerator(delay=0.3)
    async with rig(tmp_path, generator, max_active_jobs_per_user=0) as r:
        first = await r.engine.submit(r.requester("a"), photo(), spec("a-0"))
        await wait_for_status(r.store, first.job_id, Status.RUNNING)
        second = await r.engine.submit(r.requester("a"), photo(), spec("a-1"))
        other = await r.engine.submit(r.requester("b"), photo(), spec("b-0"))
        assert await r.engine.position(other.job_id) == 1
        assert await r.engine.position(second.job_id) == 2


class RecordingQueue:
    """A second ``JobQueue``: the store's own, with the name of every call recorded."""

    def __init__(self, inner: JobQueue) -> None:
        self.inner = inner
        self.calls: list[str] = []

    async def claim(self, generators: Sequence[str], now: float) -> Claimed | None:
        self.calls.append("claim")
        return await self.inner.claim(generators, now)

    async def release(self, job_id: str) -> bool:
        self.calls.append("release")
        return await self.inner.release(job_id)

    async def retry_after(self, job_id: str, not_before: float) -> bool:
        self.calls.append("retry_after")
        return await self.inner.retry_after(job_id, not_before)

    async def position(self, job_id: str, now: float) -> int | None:
        self.calls.append("position")
        return await self.inner.position(job_id, now)

    async def recover(self, max_attempts: int, reason: str, now: float) -> tuple[int, int]:
        self.calls.append("recover")
        return await self.inner.recover(max_attempts, reason, now)


async def test_the_engine_works_through_the_queue_it_is_given(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store = await Store.open(settings.database, Vault(Fernet.generate_key()))
    generator = ScriptedGenerator(script=[Transient("busy")])
    queue = RecordingQueue(StoreQueue(store))
    engine = JobEngine(store, {generator.name: generator}, settings, queue=queue)
    done = asyncio.Event()

    async def platform(event: JobEvent) -> None:
        if event.kind is EventKind.DONE:
            done.set()

    engine.subscribe("console", platform)
    requester = Requester("console", "ann", "terminal")
    try:
        await engine.start()
        first = await engine.submit(requester, photo(), spec())
        assert first.position == 1
        async with asyncio.timeout(10):
            await done.wait()
        assert (await store.jobs.get(first.job_id)).attempts == 2  # retried once, through the queue
        generator.delay = 30
        second = await engine.submit(requester, photo(), spec("second"))
        await wait_for_status(store, second.job_id, Status.RUNNING)
        await engine.stop(grace=0)  # the painting is put back, its attempt not counted
        job = await store.jobs.get(second.job_id)
        assert (job.status, job.attempts) == (Status.QUEUED, 0)
        assert set(queue.calls) == {"recover", "position", "claim", "retry_after", "release"}
    finally:
        await engine.stop(grace=0)
        await store.close()
