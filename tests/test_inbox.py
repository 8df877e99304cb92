"""What users sent is stored before it is confirmed: the inbox, drafts, and one job per message."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.drafts import DRAFT_LIFETIME
from bot.inbox import MAX_STARTS, REMEMBERED_FOR, Start
from bot.jobs import Status
from bot.spec import make_spec
from bot.store.inbox import Arrival
from tests.engine_kit import Clock, photo, rig, spec, wait_for_status

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres


async def test_an_update_is_new_then_waiting_then_recognised_once_handled(tmp_path: Path) -> None:
    clock = Clock()
    async with rig(tmp_path, clock=clock, start=False) as r:
        inbox = r.engine.inbox
        assert await inbox.receive("telegram", "41", "1001", b'{"photo": 1}') is Arrival.NEW
        assert await inbox.receive("telegram", "41", "1001", b'{"photo": 1}') is Arrival.WAITING
        assert await inbox.receive("discord", "41", "7", b"{}") is Arrival.NEW  # keys are per platform
        waiting = await inbox.waiting("telegram")
        assert [(item.key, item.user_id, item.payload) for item in waiting] == [
            ("41", "1001", b'{"photo": 1}')
        ]
        await inbox.rewrite("telegram", "41", b'{"photo": 2}')
        assert [item.payload for item in await inbox.waiting("telegram")] == [b'{"photo": 2}']
        await inbox.handled("telegram", "41")
        assert await inbox.waiting("telegram") == []
        assert await inbox.receive("telegram", "41", "1001", b'{"photo": 1}') is Arrival.HANDLED
        sealed = await r.store.db.rows(text("SELECT payload FROM inbox WHERE platform = 'discord'"))
        assert sealed[0].payload != b"{}"  # payloads are sealed at rest


async def test_handled_keys_are_remembered_past_telegrams_redelivery_then_purged(tmp_path: Path) -> None:
    clock = Clock()
    async with rig(tmp_path, clock=clock, start=False) as r:
        inbox = r.engine.inbox
        await inbox.receive("telegram", "1", "1001", b"a")
        await inbox.handled("telegram", "1")
        await inbox.receive("telegram", "2", "1001", b"b")  # still waiting: never purged
        clock.advance(24 * 3600)
        assert (await r.engine.purge())["inbox"] == 0
        assert await inbox.receive("telegram", "1", "1001", b"a") is Arrival.HANDLED
        clock.advance(REMEMBERED_FOR - 24 * 3600 + 1)
        assert (await r.engine.purge())["inbox"] == 1
        assert [item.key for item in await inbox.waiting("telegram")] == ["2"]


async def test_handling_that_never_finishes_is_given_up_after_a_few_starts(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False) as r:
        inbox = r.engine.inbox
        await inbox.receive("telegram", "9", "1001", b"poison")
        assert [await inbox.start("telegram", "9") for _ in range(MAX_STARTS)] == [Start.GO] * MAX_STARTS
        assert await inbox.start("telegram", "9") is Start.GAVE_UP  # the next start after crashes
        assert await inbox.waiting("telegram") == []
        assert await inbox.receive("telegram", "9", "1001", b"poison") is Arrival.HANDLED
        assert await inbox.start("telegram", "9") is Start.DONE_ALREADY  # a late second delivery
        assert await inbox.start("telegram", "unknown") is Start.DONE_ALREADY


async def test_a_draft_is_stored_whole_and_survives_a_restart_until_it_expires(tmp_path: Path) -> None:
    clock = Clock()
    async with rig(tmp_path, clock=clock, start=False) as r:
        drafts = r.engine.drafts
        draft = drafts.create(r.requester("ann", "-100"), 55, photo=b"\xff\xd8jpeg\x00bytes")
        draft.spec = replace(make_spec(theme="pirate", costume="red coat"), name="")
        draft.panel = 77
        await drafts.keep(draft)
    async with rig(tmp_path, clock=clock, start=False) as r:  # a new process on the same store
        drafts = r.engine.drafts
        again = await drafts.get(draft.id)
        assert again == draft and again.needs_name and again.photo == b"\xff\xd8jpeg\x00bytes"
        assert await drafts.of(r.requester("ann", "-100")) == draft
        assert await drafts.of(r.requester("ann", "other chat")) is None
        replacing = drafts.create(r.requester("ann", "-100"), None, parent="job1")
        await drafts.keep(replacing)  # one open draft per user and chat
        assert await drafts.get(draft.id) is None
        assert (await drafts.of(r.requester("ann", "-100"))).parent == "job1"
        clock.advance(DRAFT_LIFETIME + 1)
        assert await drafts.get(replacing.id) is None
        assert (await r.engine.purge())["drafts"] == 1


async def test_a_message_handled_twice_makes_one_job_and_counts_once(tmp_path: Path) -> None:
    async with rig(tmp_path, daily_quota_per_user=5) as r:
        first = await r.engine.submit(r.requester(), photo(), spec(), origin="telegram:update:5")
        again = await r.engine.submit(r.requester(), photo(), spec(), origin="telegram:update:5")
        other = await r.engine.submit(r.requester(), photo(), spec(), origin="telegram:update:6")
        assert again.job_id == first.job_id != other.job_id
        await wait_for_status(r.store, first.job_id, Status.DONE)
        assert (await r.engine.quota(r.requester())).user_used == 2
