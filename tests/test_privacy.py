"""Privacy at rest on the real SQLite file and on Postgres: schema, encryption, retention purge, forget-me,
the key file."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import inspect, text

from bot.config import Settings
from bot.jobs import ID_PATTERN, Status
from bot.privacy import Vault, load_key
from bot.store.database import WrongKey, new_id
from bot.store.repository import Store
from bot.store.tables import metadata
from tests.engine_kit import (
    Clock,
    eventually,
    photo,
    rig,
    settings_for,
    spec,
    sqlite_only,
    wait_for_status,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres


def database_file(settings: Settings) -> Path:
    return Path(settings.figurebot_data_dir) / "figurebot.db"


async def test_migrations_build_exactly_the_modelled_schema(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    key = Fernet.generate_key()
    store = await Store.open(settings.database, Vault(key))
    async with store.db.sql.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
        names = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    await store.close()
    assert differences == []
    assert {
        "photos",
        "jobs",
        "figures",
        "consents",
        "usage",
        "spend",
        "chat_settings",
        "challenges",
        "challenge_entries",
        "challenge_votes",
        "challenge_results",
        "meta",
        "alembic_version",
    } <= names
    assert "user_settings" not in names  # dropped by 0008: nothing ever wrote it
    # opening again with the same key works and keeps what is there
    again = await Store.open(settings.database, Vault(key))
    await again.privacy.accept_consent("console", "ann", "openai", 1, 1.0)
    await again.close()
    third = await Store.open(settings.database, Vault(key))
    assert await third.privacy.consent_version("console", "ann", "openai") == 1
    await third.close()


@sqlite_only
async def test_the_sqlite_file_logs_ahead_and_overwrites_what_is_deleted(tmp_path: Path) -> None:
    store = await Store.open(settings_for(tmp_path).database, Vault(Fernet.generate_key()))
    async with store.db.sql.connect() as connection:
        journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
        secure = (await connection.execute(text("PRAGMA secure_delete"))).scalar()
    await store.close()
    assert journal == "wal" and secure == 1


async def test_a_different_key_is_refused_at_start_with_a_clear_message(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store = await Store.open(settings.database, Vault(Fernet.generate_key()))
    await store.close()
    with pytest.raises(WrongKey, match="not the key this store was written with") as refused:
        await Store.open(settings.database, Vault(Fernet.generate_key()))
    assert "Traceback" not in str(refused.value)


def test_data_folder_is_private(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    load_key(settings)
    assert stat.S_IMODE(Path(settings.figurebot_data_dir).stat().st_mode) == 0o700


@sqlite_only
async def test_photos_and_figures_are_encrypted_in_the_file(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.engine.submit(r.requester(), photo(), spec())
        await r.said_until(lambda line: "done →" in line)
        await r.store.db.checkpoint()
        raw = database_file(r.settings).read_bytes()
    assert b"\xff\xd8\xff" not in raw  # no JPEG photo
    assert b"\x89PNG" not in raw  # no PNG figure


@sqlite_only
async def test_photo_is_purged_from_table_and_file_after_retention(tmp_path: Path) -> None:
    clock = Clock()
    async with rig(tmp_path, clock=clock, photo_retention=3600) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await r.said_until(lambda line: "done →" in line)
        job = await r.store.jobs.get(submitted.job_id)
        async with r.store.db.sql.connect() as connection:
            sealed = (
                await connection.execute(text(f"SELECT data FROM photos WHERE id='{job.photo_id}'"))
            ).scalar()
        await r.store.db.checkpoint()
        assert sealed[100:164] in database_file(r.settings).read_bytes()

        clock.advance(3599)
        assert (await r.engine.purge())["photos"] == 0
        clock.advance(2)
        assert (await r.engine.purge())["photos"] == 1
        assert not await r.store.photos.exists(job.photo_id)
        assert sealed[100:164] not in database_file(r.settings).read_bytes()
        assert (
            not Path(str(database_file(r.settings)) + "-wal").exists()
            or sealed[100:164] not in Path(str(database_file(r.settings)) + "-wal").read_bytes()
        )

        with pytest.raises(Exception, match="That photo has expired: photos are kept 1 hour"):
            await r.engine.reroll(submitted.job_id, r.requester())


async def test_a_reroll_inside_the_window_keeps_the_photo_alive(tmp_path: Path) -> None:
    clock = Clock()
    async with rig(tmp_path, clock=clock, photo_retention=3600) as r:
        first = await r.engine.submit(r.requester(), photo(), spec())
        await r.said_until(lambda line: "done →" in line)
        clock.advance(3000)
        await r.engine.reroll(first.job_id, r.requester())
        await r.said_until(lambda line: "done →" in line)
        clock.advance(3000)  # 6000 s after the first job, 3000 s after the last
        await r.engine.purge()
        assert await r.store.photos.exists((await r.store.jobs.get(first.job_id)).photo_id)


async def test_figures_expire_after_their_retention(tmp_path: Path) -> None:
    clock = Clock()
    async with rig(tmp_path, clock=clock, figure_retention=86400) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await r.said_until(lambda line: "done →" in line)
        job = await r.store.jobs.get(submitted.job_id)
        clock.advance(86401)
        counts = await r.engine.purge()
        assert counts["figures"] == 1 and counts["jobs"] == 1
        assert await r.store.jobs.figure(job.figure_id) is None
        assert await r.store.jobs.get(job.id) is None


async def test_retention_zero_deletes_as_soon_as_delivered(tmp_path: Path) -> None:
    async with rig(tmp_path, photo_retention=0, figure_retention=0) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await r.said_until(lambda line: "done →" in line)
        job = await wait_until(r.store, submitted.job_id, lambda job: job.delivered_at is not None)

        async def photo_gone() -> bool:
            return not await r.store.photos.exists(job.photo_id)

        await eventually(photo_gone)
        assert not await r.store.photos.exists(job.photo_id)
        assert await r.store.jobs.figure(job.figure_id) is None


async def test_a_cancelled_job_photo_goes_at_once_when_retention_is_zero(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False, photo_retention=0) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        job = await r.engine.cancel(submitted.job_id, r.requester())
        assert not await r.store.photos.exists(job.photo_id)


async def test_forget_deletes_everything_of_that_user_only(tmp_path: Path) -> None:
    async with rig(tmp_path, max_active_jobs_per_user=0) as r:
        for user in ("leaving", "leaving", "staying"):
            await r.engine.submit(r.requester(user), photo(), spec(user))
        await r.engine.accept_privacy(r.requester("leaving"))
        for _ in range(3):
            await r.said_until(lambda line: "done →" in line)
        for user in ("leaving", "staying"):
            await r.engine.drafts.keep(r.engine.drafts.create(r.requester(user), None, photo=b"jpeg"))
            await r.engine.inbox.receive("console", f"update-of-{user}", user, b"{}")
        counts = await r.engine.forget(r.requester("leaving"))
        assert counts == {
            "photos": 2,
            "figures": 2,
            "jobs": 2,
            "consents": 1,
            "challenge_entries": 0,
            "challenge_votes": 0,
            "challenge_results": 0,
            "drafts": 1,
        }
        assert await r.engine.drafts.of(r.requester("leaving")) is None
        assert await r.engine.drafts.of(r.requester("staying")) is not None
        assert [item.key for item in await r.engine.inbox.waiting("console")] == ["update-of-staying"]
        assert await r.store.jobs.latest("console", "leaving") is None
        assert await r.store.privacy.consent_version("console", "leaving", "scripted") is None
        kept = await r.store.jobs.latest("console", "staying")
        assert kept is not None and await r.store.jobs.figure(kept.figure_id) is not None


async def test_forget_cancels_jobs_in_the_works(tmp_path: Path) -> None:
    from tests.engine_kit import ScriptedGenerator

    generator = ScriptedGenerator(delay=30)
    async with rig(tmp_path, generator) as r:
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await wait_for_status(r.store, submitted.job_id, Status.RUNNING)
        counts = await r.engine.forget(r.requester())
        assert counts["jobs"] == 1 and counts["photos"] == 1
        await eventually(lambda: generator.cancelled)
        assert generator.cancelled == ["Alex"] and generator.painted == []
        assert await r.store.jobs.get(submitted.job_id) is None


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    key = load_key(settings)
    path = Path(settings.figurebot_data_dir) / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(settings) == key
    Fernet(key)


def test_configured_key_wins_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    assert load_key(settings_for(tmp_path, figurebot_secret_key=key)) == key.encode()
    assert not (tmp_path / "data" / "secret.key").exists()
    with pytest.raises(ValueError, match="not a valid key") as error:
        load_key(settings_for(tmp_path, figurebot_secret_key="hunter2-not-a-key"))
    assert "hunter2" not in str(error.value)


def test_the_wrong_key_cannot_read_stored_data() -> None:
    token = Vault(Fernet.generate_key()).seal(b"face")
    with pytest.raises(ValueError, match="could not be decrypted"):
        Vault(Fernet.generate_key()).open(token)


def test_store_ids_match_the_pattern_adapters_recognise() -> None:
    ids = {new_id() for _ in range(50)}
    assert len(ids) == 50 and all(re.fullmatch(ID_PATTERN, each) for each in ids)
