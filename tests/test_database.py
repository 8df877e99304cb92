"""The store's database on SQLite and on Postgres: which driver a URL gets, and writers at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.chats import ChatSettings
from bot.privacy import Vault
from bot.store.database import database_url
from bot.store.repository import Store
from tests.engine_kit import settings_for

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres

DAY = "2026-01-01"


def test_a_postgres_url_that_names_no_driver_gets_psycopg() -> None:
    assert database_url("postgres://bot:secret@db/figurebot").drivername == "postgresql+psycopg"
    assert database_url("postgresql://db/figurebot").drivername == "postgresql+psycopg"
    assert database_url("postgresql+psycopg://db/figurebot").drivername == "postgresql+psycopg"
    assert database_url("sqlite+aiosqlite:///data/figurebot.db").drivername == "sqlite+aiosqlite"


async def test_counts_settings_and_consents_written_at_once_all_land(tmp_path: Path) -> None:
    store = await Store.open(settings_for(tmp_path).database, Vault(Fernet.generate_key()))
    try:
        await asyncio.gather(
            *(store.usage.count_job(DAY, "console", ["ann", "chat"], "local", "chat") for _ in range(20)),
            *(store.usage.add_spend(DAY, "console", "chat", "local", 0.25) for _ in range(20)),
            *(store.chats.save("console", "chat", ChatSettings(local_only=True)) for _ in range(5)),
            *(store.privacy.accept_consent("console", "ann", "openai", 2, 1.0) for _ in range(5)),
        )
        assert await store.usage.count(DAY, "console", "ann", "local") == 20
        assert await store.usage.count(DAY, "console", "chat", "local") == 20
        [day] = await store.usage.since(DAY)
        assert (day.jobs, day.cost_usd) == (20, 5.0)
        assert (await store.chats.settings("console", "chat")).local_only
        assert await store.privacy.consent_version("console", "ann", "openai") == 2
    finally:
        await store.close()
