"""Queue positions and claims follow one fair ranking, on a real SQLite store: the position a user is shown
is the order in which the workers' claims hand the jobs out, also around a job waiting out a retry backoff."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.jobs import Status
from tests.engine_kit import Rig, photo, rig, spec

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres

BACKOFF = 3600.0


async def submit(r: Rig, user: str) -> str:
    return (await r.engine.submit(r.requester(user), photo(), spec(user))).job_id


async def start_one(r: Rig) -> str:
    """Claim the next job as a worker does; its id."""
    claimed = await r.store.jobs.claim_next([r.generator.name], time.time())
    assert claimed is not None
    return claimed[0].id


async def back_off(r: Rig, job_id: str) -> None:
    """Put a running job back to wait out a retry backoff, as the engine does after a transient error."""
    values = {"status": Status.QUEUED, "not_before": time.time() + BACKOFF, "started_at": None}
    assert await r.store.jobs.transition(job_id, [Status.RUNNING], **values)


async def test_positions_shown_are_the_order_claims_hand_jobs_out(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False, max_active_jobs_per_user=0) as r:
        retried = await submit(r, "retrier")
        assert await start_one(r) == retried
        await back_off(r, retried)  # failed once: it waits, and its requester counts as never served
        busy = await submit(r, "busy")
        assert await start_one(r) == busy  # still running: a turn that "busy" has already taken
        waiting = [
            await submit(r, user)
            for user in ("heavy", "light", "heavy", "retrier", "busy", "heavy", "busy", "light", "heavy")
        ]
        waiting.append(retried)

        positions = {job_id: await r.engine.position(job_id) for job_id in waiting}
        shown = sorted(waiting, key=lambda job_id: positions[job_id] or 0)
        assert sorted(positions.values()) == list(range(1, len(waiting) + 1))

        handed_out = []
        while (claimed := await r.store.jobs.claim_next([r.generator.name], time.time())) is not None:
            handed_out.append(claimed[0].id)
        assert retried not in handed_out  # its backoff has not passed
        later = await r.store.jobs.claim_next([r.generator.name], time.time() + BACKOFF + 1)
        assert later is not None
        handed_out.append(later[0].id)

        assert handed_out == shown
        assert shown[-1] == retried  # ranked where it will run: after every job that can start now


async def test_a_job_rejoins_its_turn_once_its_backoff_has_passed(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False, max_active_jobs_per_user=0) as r:
        retried = await submit(r, "retrier")
        assert await start_one(r) == retried
        await back_off(r, retried)
        others = [await submit(r, user) for user in ("ann", "bob", "retrier")]
        now = time.time()
        assert await r.store.jobs.queued_ids(now) == [*others, retried]
        after = now + BACKOFF + 1
        # the retrier was never served (its only start was undone), so its oldest job goes first
        assert await r.store.jobs.queued_ids(after) == [retried, others[0], others[1], others[2]]
        claimed = await r.store.jobs.claim_next([r.generator.name], after)
        assert claimed is not None and claimed[0].id == retried
