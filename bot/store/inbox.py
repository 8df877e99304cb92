"""The inbox: what users sent, kept until it has been handled, then remembered by key for a while."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.store.database import Database
from bot.store.tables import inbox


class Arrival(StrEnum):
    """What the inbox made of something received."""

    NEW = "new"  # stored now: handle it
    WAITING = "waiting"  # stored before and not handled yet: handle it (unless it is under way)
    HANDLED = "handled"  # seen and handled before: a delivery again, to be ignored


@dataclass(frozen=True)
class Received:
    """Something a user sent that has not been handled yet."""

    key: str
    user_id: str
    payload: bytes
    received_at: float
    attempts: int


def _one(platform: str, key: str) -> object:
    return and_(inbox.c.platform == platform, inbox.c.key == key)


class InboxStore:
    """Updates and interactions by platform and key, their payload sealed by the database's vault."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def receive(self, platform: str, key: str, user_id: str, payload: bytes, now: float) -> Arrival:
        """Store what arrived, unless it is there already; what it is to the caller."""
        row = {"platform": platform, "key": key, "user_id": user_id, "received_at": now, "attempts": 0}
        try:
            await self._db.execute(insert(inbox).values(**row, payload=self._db.vault.seal(payload)))
        except IntegrityError:
            found = await self._db.rows(select(inbox.c.handled_at).where(_one(platform, key)))
            return Arrival.HANDLED if found and found[0].handled_at is not None else Arrival.WAITING
        return Arrival.NEW

    async def rewrite(self, platform: str, key: str, payload: bytes) -> None:
        """Replace what is kept of something not handled yet (what its handling learnt meanwhile)."""
        where = and_(_one(platform, key), inbox.c.handled_at.is_(None))
        await self._db.execute(update(inbox).where(where).values(payload=self._db.vault.seal(payload)))

    async def start(self, platform: str, key: str) -> int | None:
        """Count one more start of handling it; how many there have been, or ``None`` when it is handled
        already (or gone: its sender used forget)."""
        async with self._db.transaction() as connection:
            where = and_(_one(platform, key), inbox.c.handled_at.is_(None))
            started = update(inbox).where(where).values(attempts=inbox.c.attempts + 1)
            return (await connection.execute(started.returning(inbox.c.attempts))).scalar()

    async def handled(self, platform: str, key: str, now: float) -> None:
        """Its effect is stored: keep only the key (so a second delivery is recognised)."""
        done = update(inbox).where(_one(platform, key)).values(handled_at=now, payload=None)
        await self._db.execute(done)

    async def waiting(self, platform: str) -> list[Received]:
        """What arrived on ``platform`` and has not been handled, oldest first."""
        query = (
            select(inbox)
            .where(inbox.c.platform == platform, inbox.c.handled_at.is_(None))
            .order_by(inbox.c.received_at)
        )
        return [
            Received(row.key, row.user_id, self._db.vault.open(row.payload), row.received_at, row.attempts)
            for row in await self._db.rows(query)
        ]

    async def purge(self, handled_before: float) -> int:
        """Forget the keys of what was handled before ``handled_before``; how many."""
        old = and_(inbox.c.handled_at.is_not(None), inbox.c.handled_at < handled_before)
        return (await self._db.execute(delete(inbox).where(old))).rowcount
