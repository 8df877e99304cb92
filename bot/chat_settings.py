"""The settings of each chat, read from the store once and kept in memory."""

from __future__ import annotations

import logging

from bot.chats import ChatSettings
from bot.errors import UserFacingError
from bot.jobs import Requester
from bot.logs import log_event
from bot.store.repository import Store

log = logging.getLogger("figurebot.engine.chats")

MAX_DAILY_QUOTA = 10_000  # the most figures per member per day a chat's admins may set
BAD_QUOTA = "The daily quota is a number of figures (0 or more), or default."


def parse_daily_quota(text: str) -> int | None:
    """The figures per member per day an admin wrote, capped at ``MAX_DAILY_QUOTA``; ``None`` for
    "default". Anything else (a sign, non-ASCII digits, more digits than the cap has) raises
    ``UserFacingError(BAD_QUOTA)``."""
    text = text.strip()
    if text.casefold() == "default":
        return None
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_DAILY_QUOTA)):
        raise UserFacingError(BAD_QUOTA)
    return min(int(text), MAX_DAILY_QUOTA)


class ChatSettingsCache:
    """What the admins of each chat (or server) set. Every job asks, and settings change only through
    this cache, so each chat's are read from the store once."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._chats: dict[tuple[str, str], ChatSettings] = {}  # (platform, scope) → settings, as stored

    async def get(self, requester: Requester) -> ChatSettings:
        """The settings of ``requester``'s chat (or server)."""
        key = (requester.platform, requester.scope)
        if key not in self._chats:
            self._chats[key] = await self._store.chats.settings(*key)
        return self._chats[key]

    async def move(self, platform: str, old_scope: str, new_scope: str) -> None:
        """A chat got a new id: its settings follow it."""
        await self._store.chats.move(platform, old_scope, new_scope)
        self._chats.pop((platform, old_scope), None)
        self._chats.pop((platform, new_scope), None)

    async def update(self, requester: Requester, **changes: object) -> ChatSettings:
        """Change settings of ``requester``'s chat (the adapter checks that they may); the new settings."""
        current = await self.get(requester)
        quota = changes.get("daily_quota_per_user")
        if isinstance(quota, int) and quota > MAX_DAILY_QUOTA:
            raise UserFacingError(f"The daily quota is at most {MAX_DAILY_QUOTA:,} figures.")
        try:
            updated = current.changed(**changes)
        except (TypeError, ValueError) as error:
            raise UserFacingError(f"Those settings cannot be saved: {error}.") from None
        await self._store.chats.save(requester.platform, requester.scope, updated)
        self._chats[requester.platform, requester.scope] = updated
        log_event(log, "chat.settings", platform=requester.platform, changed=",".join(sorted(changes)))
        return updated
