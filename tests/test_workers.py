"""The workers through the engine on a real SQLite store: typed retries and failures, timeouts, recovery
after a crash, and the generator's notes kept with a figure."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from PIL import Image

from bot.generators.base import BadInput, Misconfigured, Refused, Transient
from bot.jobs import Status
from bot.workers import BROKEN, BUSY, MAX_NOTE_LENGTH, MAX_NOTES, UNAVAILABLE
from tests.engine_kit import (
    ScriptedGenerator,
    photo,
    rig,
    spec,
    wait_for_status,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres


async def test_transient_errors_are_retried_with_backoff(tmp_path: Path) -> None:
    generator = ScriptedGenerator(script=[Transient("rate limited"), Transient("timeout", retry_after=0.2)])
    async with rig(tmp_path, generator, retry_base_delay=0.05, max_attempts=3) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        loop = asyncio.get_running_loop()
        started = loop.time()
        await r.said_until(lambda line: "done →" in line)
        elapsed = loop.time() - started
        job = await r.store.jobs.get(submitted.job_id)
        assert job.attempts == 3 and job.status is Status.DONE
        assert elapsed >= 0.05 + 0.2  # first backoff, then the server's retry-after
        assert generator.started == ["Alex"] * 3


async def test_transient_errors_give_up_after_max_attempts(tmp_path: Path) -> None:
    generator = ScriptedGenerator(script=[Transient("503")] * 5)
    async with rig(tmp_path, generator, max_attempts=2) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        lines = await r.said_until(lambda line: "failed" in line)
        assert lines[-1] == f"{submitted.job_id}: failed: {BUSY}"
        assert (await r.store.jobs.get(submitted.job_id)).attempts == 2


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (Refused("Your caption was flagged: violence."), "Your caption was flagged: violence."),
        (BadInput("That image has no face I can use."), "That image has no face I can use."),
        (Misconfigured("billing hard limit reached for key sk-abc"), UNAVAILABLE),
        (RuntimeError("segfault-ish internals"), BROKEN),
    ],
)
async def test_typed_failures_reach_the_user_without_retry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, error: Exception, shown: str
) -> None:
    generator = ScriptedGenerator(script=[error])
    async with rig(tmp_path, generator) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        lines = await r.said_until(lambda line: "failed" in line)
        assert lines[-1] == f"{submitted.job_id}: failed: {shown}"
        assert "internals" not in lines[-1] and "sk-abc" not in lines[-1]
        job = await wait_until(r.store, submitted.job_id, lambda job: job.delivered_at is not None)
        assert job.attempts == 1
        # the worker survives: the next job is painted
        await r.engine.submit(r.requester(), photo(), spec("next"))
        await r.said_until(lambda line: "done →" in line)
    if isinstance(error, Misconfigured):
        assert any(
            record.levelno == logging.ERROR and "misconfigured" in record.getMessage()
            for record in caplog.records
        )


async def test_a_job_that_runs_too_long_times_out(tmp_path: Path) -> None:
    generator = ScriptedGenerator(delay=5)
    async with rig(tmp_path, generator, job_timeout=0.1, max_attempts=1) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await r.said_until(lambda line: "failed" in line)
        assert (await r.store.jobs.get(submitted.job_id)).status is Status.FAILED


async def test_jobs_left_running_by_a_dead_process_run_again(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        assert await r.store.jobs.transition(
            submitted.job_id, [Status.QUEUED], status=Status.RUNNING, attempts=1
        )
    async with rig(tmp_path) as r:
        await r.said_until(lambda line: "done →" in line)
        assert (await r.store.jobs.get(submitted.job_id)).status is Status.DONE


async def test_a_failure_while_storing_the_figure_fails_the_job_and_tells_the_user(tmp_path: Path) -> None:
    class SeeThroughGenerator(ScriptedGenerator):
        async def generate(self, photo, spec, on_progress=None, requester=""):
            return Image.new("RGBA", (64, 96), (0, 0, 0, 0))  # JPEG cannot hold transparency

    async with rig(tmp_path, SeeThroughGenerator(), figure_format="jpeg") as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        lines = await r.said_until(lambda line: "failed" in line)
        assert lines[-1] == f"{submitted.job_id}: failed: {BROKEN}"
        assert (await r.store.jobs.get(submitted.job_id)).status is Status.FAILED


async def test_a_job_that_keeps_killing_the_process_is_failed_not_retried(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False, max_attempts=3) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        assert await r.store.jobs.transition(
            submitted.job_id, [Status.QUEUED], status=Status.RUNNING, attempts=3
        )
    async with rig(tmp_path) as r:
        lines = await r.said_until(lambda line: "failed" in line)
        assert lines[-1] == f"{submitted.job_id}: failed: {BROKEN}"
        assert r.generator.started == []


async def test_notes_are_cut_to_what_a_chat_can_show(tmp_path: Path) -> None:
    noisy = ("", "  one\n  line  ", "x" * 500, "three", "four", "five")
    async with rig(tmp_path, ScriptedGenerator(notes=noisy)) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        job = await wait_for_status(r.store, submitted.job_id, Status.DONE)
    assert job.notes == ("one line", "x" * (MAX_NOTE_LENGTH - 1) + "…", "three", "four")
    assert len(job.notes) == MAX_NOTES
