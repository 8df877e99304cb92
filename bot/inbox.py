"""What users send, kept until its effect is stored, so that a crash loses none of it.

An adapter stores each update or interaction here before it tells the platform it arrived (Telegram's
next ``getUpdates`` offset, a webhook's 200, Discord's deferral), handles it, then marks it handled.
After a crash, whatever is still waiting is handled at the next start. A platform that delivers the same
thing again (a crash between storing its effect and confirming it) is recognised by key for a day and a
bit, longer than Telegram keeps an unconfirmed update, so nothing is handled twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum

from bot.logs import log_event
from bot.store.inbox import Arrival, Received
from bot.store.repository import Store

log = logging.getLogger("figurebot.inbox")

# Arrival and Received are the store's: adapters, which never reach the store, take them from here.
__all__ = ["Arrival", "Inbox", "Received", "Start"]

REMEMBERED_FOR = 25 * 3600.0  # Telegram redelivers an unconfirmed update for up to 24 hours
MAX_STARTS = 3  # handling that never finished this often (it crashed the process?) is given up


class Start(StrEnum):
    """Whether handling may start."""

    GO = "go"
    DONE_ALREADY = "done already"  # nothing to do
    GAVE_UP = "gave up"  # tell the sender it was lost


class Inbox:
    """Received, waiting and handled keys per platform; payloads sealed while they wait."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def receive(self, platform: str, key: str, user_id: str, payload: bytes) -> Arrival:
        """Store what arrived before the platform is told; whether it is new, still waiting, or handled."""
        return await self._store.inbox.receive(platform, key, user_id, payload, self._clock())

    async def rewrite(self, platform: str, key: str, payload: bytes) -> None:
        """Keep ``payload`` in place of what was received, until it is handled (e.g. once the platform
        gave the acknowledgement an id)."""
        await self._store.inbox.rewrite(platform, key, payload)

    async def start(self, platform: str, key: str) -> Start:
        """Note that handling starts, unless it is handled already (another delivery of it got there
        first) or was started ``MAX_STARTS`` times without finishing (then it is given up and marked
        handled, and the caller says so)."""
        starts = await self._store.inbox.start(platform, key)
        if starts is None:
            return Start.DONE_ALREADY
        if starts <= MAX_STARTS:
            return Start.GO
        log_event(log, "inbox.gave_up", logging.WARNING, platform=platform, starts=MAX_STARTS)
        await self.handled(platform, key)
        return Start.GAVE_UP

    async def handled(self, platform: str, key: str) -> None:
        """Its effect is stored: drop the payload, keep the key."""
        await self._store.inbox.handled(platform, key, self._clock())

    async def waiting(self, platform: str) -> list[Received]:
        """What arrived on ``platform`` before a stop or crash and was not handled, oldest first."""
        return await self._store.inbox.waiting(platform)

    async def purge(self) -> int:
        """Forget keys handled longer ago than any platform redelivers."""
        return await self._store.inbox.purge(self._clock() - REMEMBERED_FOR)
