"""Admission through the engine on a real SQLite store: active-job limits, daily quotas and consent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.admission import LimitReached
from bot.jobs import Requester, Status
from tests.engine_kit import (
    Clock,
    ScriptedGenerator,
    photo,
    rig,
    spec,
)

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres


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
        assert "resets in 2 hours" in refused.value.message
        await r.engine.submit(r.requester("bob", "party"), photo(), spec())
        with pytest.raises(LimitReached, match="This chat has made 3 figures today"):
            await r.engine.submit(r.requester("cat", "party"), photo(), spec())
        await r.engine.submit(r.requester("cat", "elsewhere"), photo(), spec())
        clock.advance(2 * 3600 + 1)
        await r.engine.submit(r.requester("ann", "party"), photo(), spec())


async def test_consent_is_required_for_generators_that_send_photos_away(tmp_path: Path) -> None:
    from bot.privacy import ConsentRequired

    generator = ScriptedGenerator(sends_photo_off_machine=True)
    async with rig(tmp_path, generator, start=False) as r:
        with pytest.raises(ConsentRequired) as notice:
            await r.engine.submit(r.requester(), photo(), spec())
        assert "sent to the scripted image service" in notice.value.message
        await r.engine.accept_privacy(r.requester())
        await r.engine.submit(r.requester(), photo(), spec())
    async with rig(tmp_path, generator, start=False, privacy_notice_version=3) as r:
        with pytest.raises(ConsentRequired, match="version 3"):
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
    assert (await store.jobs.get(submitted.job_id)).status is Status.QUEUED
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
