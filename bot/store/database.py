"""The one database object every part of the store shares: engine, SQLite pragmas, write turns, the
vault that seals images, migrations applied at start, and the key check."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import and_, event, insert, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.errors import ConfigurationError
from bot.privacy import Vault, make_private_dir
from bot.store.tables import meta

MIGRATIONS = Path(__file__).with_name("migrations")
KEY_CHECK = b"figurebot store key check"


class WrongKey(ConfigurationError):
    """The configured key cannot read this store."""


def new_id() -> str:
    """A short random id: unguessable enough for button data, short enough for 64-byte limits. Adapters
    recognise one by ``ID_PATTERN`` (exported from ``bot.jobs``)."""
    return uuid.uuid4().hex[:16]


def owned_by(table: Any, platform: str, user_id: str) -> Any:
    """Rows of ``table`` that belong to one user."""
    return and_(table.c.platform == platform, table.c.user_id == user_id)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    """WAL for concurrent readers (synchronous=NORMAL: a killed process loses nothing committed);
    secure_delete so deleted photos are overwritten in the file."""
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "secure_delete=ON", "busy_timeout=5000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; a SQLite file's folder is created and its pragmas set."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            make_private_dir(Path(parsed.database).parent)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, pointing at the bundled migrations (and a live connection, if given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema up to the newest migration."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


class Database:
    """The SQL engine (``sql``) and the vault, shared by the store's parts. Images are sealed by the vault
    before they are written."""

    def __init__(self, sql: AsyncEngine, vault: Vault) -> None:
        self.sql = sql
        self.vault = vault
        self._writing = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, vault: Vault) -> Database:
        """Connect to ``url``, apply any pending migrations, and check the key opens this database."""
        sql = create_engine(url)
        await migrate(sql)
        database = cls(sql, vault)
        try:
            await database._check_key()
        except Exception:
            await sql.dispose()
            raise
        return database

    async def _check_key(self) -> None:
        """Seal a known value on first use; later, refuse a key that cannot open it."""
        async with self.transaction() as connection:
            sealed = (
                await connection.execute(select(meta.c.value).where(meta.c.key == "key_check"))
            ).scalar()
            if sealed is None:
                await connection.execute(
                    insert(meta).values(key="key_check", value=self.vault.seal(KEY_CHECK))
                )
                return
        try:
            self.vault.open(sealed)
        except ValueError:
            raise WrongKey(
                "FIGUREBOT_SECRET_KEY (or the key file) is not the key this store was written with; "
                "restore the right key, or start with an empty data folder."
            ) from None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. Writers take turns here rather than in SQLite's busy-wait, which sleeps."""
        async with self._writing, self.sql.begin() as connection:
            yield connection

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        """Run one write in its own transaction."""
        async with self.transaction() as connection:
            return await connection.execute(statement, parameters)

    async def rows(self, statement: Any, parameters: dict[str, Any] | None = None) -> list[Any]:
        """Every row a read returns."""
        async with self.sql.connect() as connection:
            return list((await connection.execute(statement, parameters)).all())

    async def checkpoint(self) -> None:
        """On SQLite, fold the write-ahead log into the file so deleted pages are overwritten there too."""
        if self.sql.dialect.name == "sqlite":
            async with self.sql.connect() as connection:
                await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    async def close(self) -> None:
        await self.sql.dispose()
