"""What admins set for a chat or a server."""

from __future__ import annotations

from sqlalchemy import and_, select, update

from bot.chats import ChatSettings
from bot.store.database import Database
from bot.store.tables import chat_settings


def _chat(platform: str, scope: str) -> object:
    return and_(chat_settings.c.platform == platform, chat_settings.c.scope == scope)


class ChatStore:
    """Chat settings, keyed by platform and scope (the chat id, or the guild id on Discord)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def settings(self, platform: str, scope: str) -> ChatSettings:
        rows = await self._db.rows(select(chat_settings).where(_chat(platform, scope)))
        return ChatSettings.from_row(rows[0]) if rows else ChatSettings()

    async def save(self, platform: str, scope: str, settings: ChatSettings) -> None:
        values = {"platform": platform, "scope": scope, **settings.to_row()}
        await self._db.execute(self._db.upsert(chat_settings, values))

    async def move(self, platform: str, old_scope: str, new_scope: str) -> None:
        """A chat got a new id: its settings follow (unless the new id already has its own)."""
        async with self._db.transaction() as connection:
            if not (
                await connection.execute(select(chat_settings.c.scope).where(_chat(platform, new_scope)))
            ).first():
                moved = update(chat_settings).where(_chat(platform, old_scope)).values(scope=new_scope)
                await connection.execute(moved)
