"""Budgets, spend, per-chat settings and the platform's note on jobs, on a real engine and SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.engine import LimitReached
from bot.errors import UserFacingError
from bot.generators.base import Transient
from bot.jobs import EventKind, JobEvent, Status
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

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres

MIDDAY = 1_800_000_000.0 - 1_800_000_000.0 % 86400 + 12 * 3600
TODAY = datetime.fromtimestamp(MIDDAY, UTC).date().isoformat()


def remote(**values: object) -> ScriptedGenerator:
    """A paid generator that sends photos away: 5 cents expected, 4 cents spent per figure."""
    options = {"name": "remote", "sends_photo_off_machine": True, "cost": 0.04, **values}
    generator = ScriptedGenerator(**options)
    generator.cost_estimate_usd = 0.05
    return generator


async def test_a_figure_that_would_pass_the_daily_budget_is_refused_until_midnight(tmp_path: Path) -> None:
    clock = Clock(MIDDAY)
    async with rig(tmp_path, remote(), clock=clock, figurebot_generator="remote", daily_budget_usd=0.1) as r:
        await r.engine.accept_privacy(r.requester())
        for name in ("one", "two"):
            submitted = await r.engine.submit(r.requester(), photo(), spec(name))
            await wait_for_status(r.store, submitted.job_id, Status.DONE)
        assert await r.store.usage.spent(TODAY) == pytest.approx(0.08)
        with pytest.raises(LimitReached, match=r"budget .* used up\. It resets in 12 hours"):
            await r.engine.submit(r.requester(), photo(), spec("three"))
        assert r.generator.started == ["one", "two"]
        clock.advance(12 * 3600)
        await r.engine.submit(r.requester(), photo(), spec("next day"))


async def test_queued_figures_past_the_budget_fail_before_any_call(tmp_path: Path) -> None:
    clock = Clock(MIDDAY)
    async with rig(
        tmp_path,
        remote(),
        clock=clock,
        start=False,
        figurebot_generator="remote",
        daily_budget_usd=0.1,
        max_active_jobs_per_user=0,
    ) as r:
        await r.engine.accept_privacy(r.requester())
        jobs = []
        for i in range(3):
            jobs.append(await r.engine.submit(r.requester(), photo(), spec(f"fig-{i}")))
            clock.advance(1)  # so the queue order is the order of submission
        await r.engine.start()
        last = await wait_until(r.store, jobs[2].job_id, lambda job: job.delivered_at is not None)
        assert last.status is Status.FAILED and "budget" in last.error
        assert r.generator.started == ["fig-0", "fig-1"]
        done = await r.store.jobs.get(jobs[0].job_id)
        assert done.cost_usd == pytest.approx(0.04)


async def test_each_chat_has_its_own_budget(tmp_path: Path) -> None:
    async with rig(
        tmp_path, remote(), clock=Clock(MIDDAY), figurebot_generator="remote", daily_budget_per_chat_usd=0.06
    ) as r:
        for user, chat in (("ann", "party"), ("bob", "quiet")):
            await r.engine.accept_privacy(r.requester(user, chat))
        first = await r.engine.submit(r.requester("ann", "party"), photo(), spec())
        await wait_for_status(r.store, first.job_id, Status.DONE)
        with pytest.raises(LimitReached, match="budget"):
            await r.engine.submit(r.requester("ann", "party"), photo(), spec())
        assert (await r.engine.quota(r.requester("ann", "party"))).budget_left_usd == 0.0  # $0.02: no figure
        quota = await r.engine.quota(r.requester("bob", "quiet"))
        assert quota.budget_left_usd == pytest.approx(0.06)
        await r.engine.submit(r.requester("bob", "quiet"), photo(), spec())


async def test_a_chat_that_keeps_photos_here_gets_the_local_generator(tmp_path: Path) -> None:
    local = ScriptedGenerator(name="local")
    async with rig(tmp_path, remote(), others=(local,), figurebot_generator="remote") as r:
        settings = await r.engine.update_chat_settings(r.requester("ann", "party"), local_only=True)
        assert settings.local_only
        submitted = await r.engine.submit(r.requester("ann", "party"), photo(), spec("kept"))
        job = await wait_for_status(r.store, submitted.job_id, Status.DONE)
        assert job.generator == "local" and local.painted == ["kept"] and r.generator.started == []
        assert job.cost_usd is None
        assert (await r.engine.quota(r.requester("ann", "party"))).generator == "local"
        assert (await r.engine.quota(r.requester("ann", "elsewhere"))).generator == "remote"


async def test_a_chat_may_lower_the_daily_quota_and_the_photo_retention(tmp_path: Path) -> None:
    async with rig(tmp_path, max_active_jobs_per_user=0, photo_retention=3600) as r:
        party = r.requester("ann", "party")
        await r.engine.update_chat_settings(party, daily_quota_per_user=1, photo_retention=0)
        first = await r.engine.submit(party, photo(), spec())
        with pytest.raises(LimitReached, match="the daily limit is 1"):
            await r.engine.submit(party, photo(), spec())
        job = await wait_until(r.store, first.job_id, lambda job: job.delivered_at is not None)

        async def photo_gone() -> bool:
            return not await r.store.photos.exists(job.photo_id)

        await eventually(photo_gone)
        assert await photo_gone()
        quota = await r.engine.quota(party)
        assert (quota.user_used, quota.user_limit, quota.budget_left_usd) == (1, 1, None)


async def test_chat_settings_refuse_unknown_names_and_negative_values(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False) as r:
        with pytest.raises(UserFacingError, match="unknown chat settings: colour"):
            await r.engine.update_chat_settings(r.requester(), colour="red")
        with pytest.raises(UserFacingError, match="cannot be negative"):
            await r.engine.update_chat_settings(r.requester(), daily_quota_per_user=-1)
        saved = await r.engine.update_chat_settings(r.requester(), channels=[123, "456"])
        assert saved.channels == ("123", "456")
        assert (await r.engine.chat_settings(r.requester())).channels == ("123", "456")


async def test_the_platforms_note_comes_back_with_every_event(tmp_path: Path) -> None:
    seen: list[JobEvent] = []

    async def record(event: JobEvent) -> None:
        seen.append(event)

    async with rig(tmp_path, start=False) as r:
        r.engine.subscribe("console", record)
        submitted = await r.engine.submit(r.requester(), photo(), spec(), ref='{"message": 7}')
        await r.engine.set_ref(submitted.job_id, '{"message": 8}')
        await r.engine.start()
        await eventually(lambda: any(event.kind is EventKind.DONE for event in seen))
        assert seen[0].job.ref == '{"message": 7}'
        assert {event.job.ref for event in seen[1:]} == {'{"message": 8}'}
        again = await r.engine.reroll(submitted.job_id, r.requester(), ref="second")
        assert (await r.store.jobs.get(again.job_id)).ref == "second"


async def test_a_stand_in_generator_is_recorded(tmp_path: Path) -> None:
    async with rig(tmp_path, ScriptedGenerator(stand_in="local")) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        job = await wait_for_status(r.store, submitted.job_id, Status.DONE)
        assert (job.generator, job.painted_by, job.painter) == ("scripted", "local", "local")


async def test_a_chat_may_lower_the_daily_quota_but_never_raise_it(tmp_path: Path) -> None:
    async with rig(tmp_path, daily_quota_per_user=1, max_active_jobs_per_user=0) as r:
        party = r.requester("ann", "party")
        await r.engine.update_chat_settings(party, daily_quota_per_user=10_000)
        await r.engine.submit(party, photo(), spec())
        with pytest.raises(LimitReached, match="the daily limit is 1"):
            await r.engine.submit(party, photo(), spec())
        assert (await r.engine.quota(party)).user_limit == 1


async def test_jobs_painting_at_once_cannot_pass_the_budget_together(tmp_path: Path) -> None:
    generator = remote(concurrency=2, delay=0.2)
    async with rig(
        tmp_path,
        generator,
        clock=Clock(MIDDAY),
        start=False,
        figurebot_generator="remote",
        daily_budget_usd=0.06,
        max_active_jobs_per_user=0,
        worker_concurrency=2,
    ) as r:
        for user in ("ann", "bob"):
            await r.engine.accept_privacy(r.requester(user))
        jobs = [await r.engine.submit(r.requester(user), photo(), spec(user)) for user in ("ann", "bob")]
        await r.engine.start()
        finished = [
            await wait_until(r.store, job.job_id, lambda job: job.delivered_at is not None) for job in jobs
        ]
        assert sorted(job.status for job in finished) == [Status.DONE, Status.FAILED]
        assert len(generator.started) == 1
        assert await r.store.usage.spent(TODAY) == pytest.approx(0.04)


async def test_a_paid_call_that_fails_afterwards_still_counts_against_the_budget(tmp_path: Path) -> None:
    unusable = Transient("The image could not be read.")
    unusable.cost_usd = 0.03
    clock = Clock(MIDDAY)
    async with rig(
        tmp_path, remote(script=[unusable]), clock=clock, figurebot_generator="remote", daily_budget_usd=1.0
    ) as r:
        await r.engine.accept_privacy(r.requester())
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await wait_until(r.store, submitted.job_id, lambda job: job.not_before is not None)
        assert await r.store.usage.spent(TODAY) == pytest.approx(0.03)
        clock.advance(1)
        await wait_for_status(r.store, submitted.job_id, Status.DONE)  # the retry paints it
        assert await r.store.usage.spent(TODAY) == pytest.approx(0.03 + 0.04)


async def test_a_figure_painted_across_midnight_is_counted_on_the_day_it_started(tmp_path: Path) -> None:
    clock = Clock(MIDDAY + 12 * 3600 - 1)  # a second before midnight UTC

    class Slow(ScriptedGenerator):
        async def generate(self, photo, spec, on_progress=None, requester=""):
            clock.advance(2)
            return await super().generate(photo, spec, on_progress, requester)

    generator = Slow(name="remote", sends_photo_off_machine=True, cost=0.04)
    generator.cost_estimate_usd = 0.05
    async with rig(tmp_path, generator, clock=clock, figurebot_generator="remote", daily_budget_usd=1.0) as r:
        await r.engine.accept_privacy(r.requester())
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await wait_for_status(r.store, submitted.job_id, Status.DONE)
        tomorrow = datetime.fromtimestamp(clock.now, UTC).date().isoformat()
        assert (await r.store.usage.spent(TODAY), await r.store.usage.spent(tomorrow)) == (
            pytest.approx(0.04),
            0.0,
        )


async def test_queued_figures_of_a_chat_that_went_local_only_are_painted_here(tmp_path: Path) -> None:
    local = ScriptedGenerator(name="local")
    async with rig(tmp_path, remote(), others=(local,), start=False, figurebot_generator="remote") as r:
        party = r.requester("ann", "party")
        await r.engine.accept_privacy(party)
        submitted = await r.engine.submit(party, photo(), spec("queued"))
        await r.engine.update_chat_settings(party, local_only=True)
        await r.engine.start()
        job = await wait_for_status(r.store, submitted.job_id, Status.DONE)
        assert (job.generator, job.painted_by, job.cost_usd) == ("remote", "local", None)
        assert r.generator.started == [] and local.painted == ["queued"]
