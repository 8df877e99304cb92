"""Drafts: figures being set up in a chat, sealed, until their short lifetime ends."""

from __future__ import annotations

from sqlalchemy import and_, delete, insert, select

from bot.jobs import Requester
from bot.store.database import Database
from bot.store.tables import drafts


def _of(requester: Requester) -> object:
    return and_(
        drafts.c.platform == requester.platform,
        drafts.c.user_id == requester.user_id,
        drafts.c.chat_id == requester.chat_id,
    )


class DraftStore:
    """One open draft per user and chat; its content is the caller's, sealed by the database's vault."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(
        self, draft_id: str, requester: Requester, data: bytes, now: float, expires_at: float
    ) -> None:
        """Keep the draft, in place of the requester's other draft in that chat."""
        row = {
            "id": draft_id,
            "platform": requester.platform,
            "user_id": requester.user_id,
            "chat_id": requester.chat_id,
            "data": self._db.vault.seal(data),
            "created_at": now,
            "expires_at": expires_at,
        }
        async with self._db.transaction() as connection:
            await connection.execute(delete(drafts).where(_of(requester) | (drafts.c.id == draft_id)))
            await connection.execute(insert(drafts).values(**row))

    async def get(self, draft_id: str, now: float) -> bytes | None:
        """The draft's content, unless it expired."""
        return await self._content(drafts.c.id == draft_id, now)

    async def of(self, requester: Requester, now: float) -> bytes | None:
        """The content of the requester's open draft in their chat, if any."""
        return await self._content(_of(requester), now)

    async def _content(self, which: object, now: float) -> bytes | None:
        rows = await self._db.rows(select(drafts.c.data).where(which, drafts.c.expires_at > now))
        return self._db.vault.open(rows[0].data) if rows else None

    async def delete(self, draft_id: str) -> None:
        await self._db.execute(delete(drafts).where(drafts.c.id == draft_id))

    async def delete_of(self, requester: Requester) -> bool:
        """Delete the requester's draft in their chat; whether there was one."""
        return bool((await self._db.execute(delete(drafts).where(_of(requester)))).rowcount)
