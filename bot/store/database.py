"""The one database object every part of the store shares: engine (SQLite or Postgres), SQLite pragmas,
write turns, the vault that seals images, migrations applied at start, and the key check."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, and_, event, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.errors import ConfigurationError
from bot.privacy import Vault, make_private_dir
from bot.store.tables import meta

MIGRATIONS = Path(__file__).with_name("migrations")
KEY_CHECK = b"figurebot store key check"
# INSERT with ON CONFLICT, which SQLite and Postgres spell alike but SQLAlchemy builds per dialect.
_INSERT_OR = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


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


def database_url(url: str) -> URL:
    """``url`` parsed; a Postgres URL that names no driver (``postgresql://``, ``postgres://``) gets
    psycopg, the one Postgres driver figurebot installs."""
    parsed = make_url(url)
    return (
        parsed.set(drivername="postgresql+psycopg")
        if parsed.drivername in ("postgres", "postgresql")
        else parsed
    )


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; a SQLite file's folder is created and its pragmas set. A Postgres
    database must exist already (its server creates it, as ``createdb`` or the image's ``POSTGRES_DB``)."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            make_private_dir(Path(parsed.database).parent)
        engine = create_async_engine(parsed)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(parsed, pool_pre_ping=True)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, pointing at the bundled migrations (and a live connection, if given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


async def migrate(connection: AsyncConnection) -> None:
    """Bring the schema up to the newest migration, in the connection's transaction. On Postgres, processes
    starting at once take turns (as SQLite's file lock makes them): the first migrates, the others find
    the schema done."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('figurebot migrations'))"))
    await connection.run_sync(_upgrade)


class Database:
    """The SQL engine (``sql``) and the vault, shared by the store's parts. Images are sealed by the vault
    before they are written."""

    def __init__(self, sql: AsyncEngine, vault: Vault) -> None:
        self.sql = sql
        self.vault = vault
        turns = asyncio.Lock() if sql.dialect.name == "sqlite" else nullcontext()
        self._writing: AbstractAsyncContextManager[Any] = turns  # see ``transaction``

    @classmethod
    async def open(cls, url: str, vault: Vault) -> Database:
        """Connect to ``url``, apply any pending migrations, and check the key opens this database."""
        database = cls(create_engine(url), vault)
        try:
            async with database.transaction() as connection:
                await migrate(connection)
                await database._check_key(connection)
        except Exception:
            await database.close()
            raise
        return database

    def upsert(self, table: Table, row: dict[str, Any], *, add: bool = False) -> Any:
        """An INSERT of ``row`` that, where ``table`` has a row with the same primary key, updates that row
        instead: its other columns set to ``row``'s values or, with ``add``, increased by them (counters).
        One statement, so two writers (on Postgres, at once) cannot both insert."""
        statement = _INSERT_OR[self.sql.dialect.name](table).values(row)
        key = [column.name for column in table.primary_key]
        new = statement.excluded
        changes = {name: table.c[name] + new[name] if add else new[name] for name in row if name not in key}
        return statement.on_conflict_do_update(index_elements=key, set_=changes)

    async def _check_key(self, connection: AsyncConnection) -> None:
        """Seal a known value on first use; later, refuse a key that cannot open it."""
        sealed = (await connection.execute(select(meta.c.value).where(meta.c.key == "key_check"))).scalar()
        if sealed is None:
            await connection.execute(insert(meta).values(key="key_check", value=self.vault.seal(KEY_CHECK)))
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
        """A write transaction. On SQLite, writers take turns here rather than in its busy-wait, which sleeps;
        on Postgres they run at once, kept apart by its row locks, ``upsert`` and a consistent order (a job
        before its photo and figure)."""
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
        """On SQLite, fold the write-ahead log into the file so deleted pages are overwritten there too. On
        Postgres, deleted rows linger (sealed) until vacuum reuses their space."""
        if self.sql.dialect.name == "sqlite":
            async with self.sql.connect() as connection:
                await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    async def close(self) -> None:
        await self.sql.dispose()
