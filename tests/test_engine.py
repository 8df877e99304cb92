"""The job engine on a real SQLite store, driven through the in-memory console platform."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from bot.errors import UserFacingError
from bot.generators.base import Misconfigured, Painted
from bot.jobs import Status
from tests.engine_kit import (
    ScriptedGenerator,
    eventually,
    photo,
    rig,
    spec,
    wait_for_status,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres


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
        assert (await r.store.jobs.get(submitted.job_id)).figure_id is None


async def test_only_the_owner_may_cancel_or_reroll(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False) as r:
        submitted = await r.engine.submit(r.requester("owner"), photo(), spec())
        for action in (
            r.engine.cancel(submitted.job_id, r.requester("intruder")),
            r.engine.reroll(submitted.job_id, r.requester("intruder")),
        ):
            with pytest.raises(UserFacingError, match="can't find that figure"):
                await action
        assert (await r.store.jobs.get(submitted.job_id)).status is Status.QUEUED


async def test_reroll_reuses_the_photo_with_a_new_spec(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        first = await r.engine.submit(r.requester(), photo(), spec("Alex"))
        await r.said_until(lambda line: "done →" in line)
        again = await r.engine.reroll(first.job_id, r.requester(), spec("Alex the Second"))
        await r.said_until(lambda line: "done →" in line)
        child = await r.store.jobs.get(again.job_id)
        assert child.parent_id == first.job_id
        assert child.photo_id == (await r.store.jobs.get(first.job_id)).photo_id
        assert r.generator.painted == ["Alex", "Alex the Second"]


async def test_a_finished_figure_can_be_deleted_by_its_owner_only(tmp_path: Path) -> None:
    async with rig(tmp_path, max_active_jobs_per_user=0) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        job = await wait_until(r.store, submitted.job_id, lambda job: job.delivered_at is not None)
        with pytest.raises(UserFacingError, match="can't find that figure"):
            await r.engine.delete_figure(job.id, r.requester("stranger"))
        await r.engine.delete_figure(job.id, r.requester())
        assert await r.store.jobs.get(job.id) is None and await r.store.jobs.figure(job.figure_id) is None
        with pytest.raises(UserFacingError, match="can't find that figure"):
            await r.engine.delete_figure(job.id, r.requester())
        r.generator.delay = 5
        waiting = await r.engine.submit(r.requester(), photo(), spec())
        with pytest.raises(UserFacingError, match="still in the works; cancel it instead"):
            await r.engine.delete_figure(waiting.job_id, r.requester())


# -- variants (Re-roll) and notes ---------------------------------------------------------------------


async def test_each_reroll_of_a_photo_is_its_next_variant(tmp_path: Path) -> None:
    async with rig(tmp_path, max_active_jobs_per_user=0) as r:
        first = await r.engine.submit(r.requester(), photo(), spec("Alex"))
        again = await r.engine.reroll(first.job_id, r.requester())
        twice = await r.engine.reroll(first.job_id, r.requester())  # the same figure again: a new take
        themed = await r.engine.reroll(again.job_id, r.requester(), replace(spec("Alex"), variant=9))
        other = await r.engine.submit(r.requester(), photo(), spec("Bo"))  # another photo starts over
        jobs = [await r.store.jobs.get(s.job_id) for s in (first, again, twice, themed, other)]
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
        assert (await r.store.jobs.get(after.job_id)).spec.variant == 5


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
