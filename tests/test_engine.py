"""The job engine on a real SQLite store, driven through the in-memory console platform."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from bot.engine import BROKEN, BUSY, FIGURE_EXPIRED, MAX_NOTE_LENGTH, MAX_NOTES, UNAVAILABLE, LimitReached
from bot.errors import UserFacingError
from bot.generators.base import BadInput, Misconfigured, Painted, Refused, Transient
from bot.jobs import EventKind, JobEvent, Requester, Status
from tests.engine_kit import (
    Clock,
    ScriptedGenerator,
    eventually,
    photo,
    rig,
    spec,
    wait_for_status,
    wait_until,
)


async def test_a_figure_is_queued_painted_and_delivered_once(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec("Eileen"))
        assert submitted.position == 1
        lines = await r.said_until(lambda line: "done →" in line)
        assert lines[0] == f"{submitted.job_id}: painting…"
        path = Path(lines[-1].split("→ ")[1])
        assert path.read_bytes().startswith(b"\x89PNG")
        job = await wait_until(r.store, submitted.job_id, lambda job: job.delivered_at is not None)
        assert job.status is Status.DONE
        assert await r.engine.redeliver() == 0
        assert r.console.said.empty()


async def test_the_generator_gets_the_photo_back_from_the_store(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        original = photo()
        await r.engine.submit(r.requester(), original, spec())
        await r.said_until(lambda line: "done →" in line)
        given = r.generator.photos[0]
        assert given.image.size == original.image.size and given.image.mode == "RGB"
        assert given.image.info == {}


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


async def test_active_job_limit_per_user(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False) as r:
        await r.engine.submit(r.requester(), photo(), spec())
        await r.engine.submit(r.requester(), photo(), spec())
        with pytest.raises(LimitReached, match="the limit is 2"):
            await r.engine.submit(r.requester(), photo(), spec())
        await r.engine.submit(r.requester("someone-else"), photo(), spec())


async def test_daily_quotas_per_user_and_per_chat_reset_at_midnight(tmp_path: Path) -> None:
    clock = Clock(1_800_000_000.0 - 1_800_000_000.0 % 86400 + 22 * 3600)  # 22:00 UTC
    async with rig(
        tmp_path, clock=clock, daily_quota_per_user=2, daily_quota_per_chat=3, max_active_jobs_per_user=0
    ) as r:
        for _ in range(2):
            await r.engine.submit(r.requester("ann", "party"), photo(), spec())
        with pytest.raises(LimitReached) as refused:
            await r.engine.submit(r.requester("ann", "party"), photo(), spec())
        assert "the daily limit is 2" in refused.value.message
        assert "resets in 2 h 0 min" in refused.value.message
        await r.engine.submit(r.requester("bob", "party"), photo(), spec())
        with pytest.raises(LimitReached, match="This chat has made 3 figures today"):
            await r.engine.submit(r.requester("cat", "party"), photo(), spec())
        await r.engine.submit(r.requester("cat", "elsewhere"), photo(), spec())
        clock.advance(2 * 3600 + 1)
        await r.engine.submit(r.requester("ann", "party"), photo(), spec())


async def test_transient_errors_are_retried_with_backoff(tmp_path: Path) -> None:
    generator = ScriptedGenerator(script=[Transient("rate limited"), Transient("timeout", retry_after=0.2)])
    async with rig(tmp_path, generator, retry_base_delay=0.05, max_attempts=3) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        loop = asyncio.get_running_loop()
        started = loop.time()
        await r.said_until(lambda line: "done →" in line)
        elapsed = loop.time() - started
        job = await r.store.job(submitted.job_id)
        assert job.attempts == 3 and job.status is Status.DONE
        assert elapsed >= 0.05 + 0.2  # first backoff, then the server's retry-after
        assert generator.started == ["Alex"] * 3


async def test_transient_errors_give_up_after_max_attempts(tmp_path: Path) -> None:
    generator = ScriptedGenerator(script=[Transient("503")] * 5)
    async with rig(tmp_path, generator, max_attempts=2) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        lines = await r.said_until(lambda line: "failed" in line)
        assert lines[-1] == f"{submitted.job_id}: failed: {BUSY}"
        assert (await r.store.job(submitted.job_id)).attempts == 2


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
        assert (await r.store.job(submitted.job_id)).status is Status.FAILED


async def test_cancel_a_queued_job(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec("never"))
        await r.engine.cancel(submitted.job_id, r.requester())
        assert await r.console.pop() == f"{submitted.job_id}: cancelled."
        await r.engine.start()
        await r.engine.submit(r.requester(), photo(), spec("after"))
        await r.said_until(lambda line: "done →" in line)
        assert r.generator.started == ["after"]
        with pytest.raises(UserFacingError, match="already finished"):
            await r.engine.cancel(submitted.job_id, r.requester())


async def test_cancel_a_running_job_stops_the_generator(tmp_path: Path) -> None:
    generator = ScriptedGenerator(delay=30)
    async with rig(tmp_path, generator) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await wait_for_status(r.store, submitted.job_id, Status.RUNNING)
        await r.engine.cancel(submitted.job_id, r.requester())
        await r.said_until(lambda line: "cancelled" in line)
        await wait_until(r.store, submitted.job_id, lambda job: job.status is Status.CANCELLED)
        await eventually(lambda: generator.cancelled)
        assert generator.cancelled == ["Alex"] and generator.painted == []
        assert (await r.store.job(submitted.job_id)).figure_id is None


async def test_only_the_owner_may_cancel_or_reroll(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False) as r:
        submitted = await r.engine.submit(r.requester("owner"), photo(), spec())
        for action in (
            r.engine.cancel(submitted.job_id, r.requester("intruder")),
            r.engine.reroll(submitted.job_id, r.requester("intruder")),
        ):
            with pytest.raises(UserFacingError, match="can't find that figure"):
                await action
        assert (await r.store.job(submitted.job_id)).status is Status.QUEUED


async def test_reroll_reuses_the_photo_with_a_new_spec(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        first = await r.engine.submit(r.requester(), photo(), spec("Alex"))
        await r.said_until(lambda line: "done →" in line)
        again = await r.engine.reroll(first.job_id, r.requester(), spec("Alex the Second"))
        await r.said_until(lambda line: "done →" in line)
        child = await r.store.job(again.job_id)
        assert child.parent_id == first.job_id
        assert child.photo_id == (await r.store.job(first.job_id)).photo_id
        assert r.generator.painted == ["Alex", "Alex the Second"]


async def test_jobs_left_running_by_a_dead_process_run_again(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        assert await r.store.transition(submitted.job_id, [Status.QUEUED], status=Status.RUNNING, attempts=1)
    async with rig(tmp_path) as r:
        await r.said_until(lambda line: "done →" in line)
        assert (await r.store.job(submitted.job_id)).status is Status.DONE


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
        assert platform.delivered == [] and (await r.store.job(submitted.job_id)).delivered_at is None
    async with rig(tmp_path, start=False) as r:  # a restart: delivery happens at start, once
        r.engine.subscribe("console", platform)
        await r.engine.start()
        assert platform.delivered == [submitted.job_id]
        assert await r.engine.redeliver() == 0
        assert platform.delivered == [submitted.job_id]


async def test_consent_is_required_for_generators_that_send_photos_away(tmp_path: Path) -> None:
    from bot.privacy import ConsentRequired

    generator = ScriptedGenerator(sends_photo_off_machine=True)
    async with rig(tmp_path, generator, start=False) as r:
        with pytest.raises(ConsentRequired) as notice:
            await r.engine.submit(r.requester(), photo(), spec())
        assert "sent to the scripted image service" in notice.value.message
        await r.engine.accept_privacy(r.requester())
        await r.engine.submit(r.requester(), photo(), spec())
    async with rig(tmp_path, generator, start=False, privacy_notice_version=2) as r:
        with pytest.raises(ConsentRequired, match="version 2"):
            await r.engine.submit(r.requester(), photo(), spec())


async def test_the_local_generator_needs_no_consent(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    from bot.engine import JobEngine
    from bot.generators.local import LocalGenerator
    from bot.privacy import Vault
    from bot.store.repository import Store
    from tests.engine_kit import settings_for

    settings = settings_for(tmp_path, figurebot_generator="local")
    store = await Store.open(settings.database, Vault(Fernet.generate_key()))
    engine = JobEngine(store, {"local": LocalGenerator()}, settings)
    assert not engine.generators["local"].sends_photo_off_machine
    submitted = await engine.submit(Requester("console", "ann", "terminal"), photo(), spec())
    assert (await store.job(submitted.job_id)).status is Status.QUEUED
    await store.close()


async def test_concurrent_submits_cannot_pass_the_limits(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False, max_active_jobs_per_user=2) as r:
        results = await asyncio.gather(
            *(r.engine.submit(r.requester(), photo(), spec()) for _ in range(6)), return_exceptions=True
        )
        assert sum(not isinstance(result, Exception) for result in results) == 2
        assert all(isinstance(result, LimitReached) for result in results if isinstance(result, Exception))


async def test_forgetting_does_not_reset_the_daily_quota(tmp_path: Path) -> None:
    async with rig(tmp_path, daily_quota_per_user=2, max_active_jobs_per_user=0) as r:
        for _ in range(2):
            await r.engine.submit(r.requester(), photo(), spec())
        await r.engine.forget(r.requester())
        with pytest.raises(LimitReached, match="daily limit is 2"):
            await r.engine.submit(r.requester(), photo(), spec())


async def test_a_failure_while_storing_the_figure_fails_the_job_and_tells_the_user(tmp_path: Path) -> None:
    class SeeThroughGenerator(ScriptedGenerator):
        async def generate(self, photo, spec, on_progress=None, requester=""):
            return Image.new("RGBA", (64, 96), (0, 0, 0, 0))  # JPEG cannot hold transparency

    async with rig(tmp_path, SeeThroughGenerator(), figure_format="jpeg") as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        lines = await r.said_until(lambda line: "failed" in line)
        assert lines[-1] == f"{submitted.job_id}: failed: {BROKEN}"
        assert (await r.store.job(submitted.job_id)).status is Status.FAILED


async def test_a_job_that_keeps_killing_the_process_is_failed_not_retried(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False, max_attempts=3) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        assert await r.store.transition(submitted.job_id, [Status.QUEUED], status=Status.RUNNING, attempts=3)
    async with rig(tmp_path) as r:
        lines = await r.said_until(lambda line: "failed" in line)
        assert lines[-1] == f"{submitted.job_id}: failed: {BROKEN}"
        assert r.generator.started == []


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


async def test_a_finished_figure_can_be_deleted_by_its_owner_only(tmp_path: Path) -> None:
    async with rig(tmp_path, max_active_jobs_per_user=0) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        job = await wait_until(r.store, submitted.job_id, lambda job: job.delivered_at is not None)
        with pytest.raises(UserFacingError, match="can't find that figure"):
            await r.engine.delete_figure(job.id, r.requester("stranger"))
        await r.engine.delete_figure(job.id, r.requester())
        assert await r.store.job(job.id) is None and await r.store.figure(job.figure_id) is None
        with pytest.raises(UserFacingError, match="can't find that figure"):
            await r.engine.delete_figure(job.id, r.requester())
        r.generator.delay = 5
        waiting = await r.engine.submit(r.requester(), photo(), spec())
        with pytest.raises(UserFacingError, match="still in the works; cancel it instead"):
            await r.engine.delete_figure(waiting.job_id, r.requester())


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
        engine = [record for record in caplog.records if record.name == "figurebot.engine"]
        assert [record for record in engine if record.levelno >= logging.WARNING] == []
        connected = True
        assert await r.engine.redeliver() == 1
        assert delivered[-1].value == "done"


# -- variants (Re-roll) and notes ---------------------------------------------------------------------


async def test_each_reroll_of_a_photo_is_its_next_variant(tmp_path: Path) -> None:
    async with rig(tmp_path, max_active_jobs_per_user=0) as r:
        first = await r.engine.submit(r.requester(), photo(), spec("Alex"))
        again = await r.engine.reroll(first.job_id, r.requester())
        twice = await r.engine.reroll(first.job_id, r.requester())  # the same figure again: a new take
        themed = await r.engine.reroll(again.job_id, r.requester(), replace(spec("Alex"), variant=9))
        other = await r.engine.submit(r.requester(), photo(), spec("Bo"))  # another photo starts over
        jobs = [await r.store.job(s.job_id) for s in (first, again, twice, themed, other)]
        assert [job.spec.variant for job in jobs] == [1, 2, 3, 4, 1]
        for job in jobs:
            await wait_for_status(r.store, job.id, Status.DONE)
        assert sorted((s.name, s.variant) for s in r.generator.specs) == [
            ("Alex", 1),
            ("Alex", 2),
            ("Alex", 3),
            ("Alex", 4),
            ("Bo", 1),
        ]
        await r.engine.delete_figure(themed.job_id, r.requester())  # a deleted take is not made again
        after = await r.engine.reroll(first.job_id, r.requester())
        assert (await r.store.job(after.job_id)).spec.variant == 5


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
        assert (await r.store.job(submitted.job_id)).notes == notes

        r.engine.subscribe("console", down_once)
        second = await r.engine.submit(r.requester(), photo(), spec())
        await wait_for_status(r.store, second.job_id, Status.DONE)
        assert await r.engine.redeliver() == 1  # rebuilt from the store, notes and all
        assert [event.job.notes for event in events] == [notes, notes]


async def test_notes_are_cut_to_what_a_chat_can_show(tmp_path: Path) -> None:
    noisy = ("", "  one\n  line  ", "x" * 500, "three", "four", "five")
    async with rig(tmp_path, ScriptedGenerator(notes=noisy)) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        job = await wait_for_status(r.store, submitted.job_id, Status.DONE)
    assert job.notes == ("one line", "x" * (MAX_NOTE_LENGTH - 1) + "…", "three", "four")
    assert len(job.notes) == MAX_NOTES


async def test_a_local_stand_in_for_openai_keeps_the_local_notes(tmp_path: Path) -> None:
    from bot.generators.local import LocalGenerator
    from bot.generators.openai import OpenAIGenerator
    from tests.engine_kit import settings_for

    class NotingBoxer(LocalGenerator):
        async def generate(self, photo, spec, on_progress=None, requester=""):  # type: ignore[no-untyped-def]
            return Painted(Image.new("RGB", (64, 96)), notes=("I could not draw: jetpack",))

    async def unusable(*args: object) -> Painted:
        raise Misconfigured("billing")

    settings = settings_for(tmp_path, openai_api_key="sk-test", fallback_to_local=True)
    generator = OpenAIGenerator(settings, NotingBoxer())
    generator._paint = unusable  # type: ignore[method-assign]
    painted = await generator.generate(photo(), spec())
    assert (painted.stand_in, painted.notes) == ("local", ("I could not draw: jetpack",))
