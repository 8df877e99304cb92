"""Keeping within Telegram's flood limits: messages to one chat are spaced, and a 429 is waited out.

Not a python-telegram-bot ``BaseRateLimiter``: a limiter gets a request already built, then waits and
retries it inside the call. Here the callers act once their turn has come: a status line is picked then
(the newest, see ``delivery.StatusMessage``), a figure is checked against /forget after a 429's wait, and a
status edit is cancelled before the final answer only while it waits, never once it is under way.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

T = TypeVar("T")
ONCE_MORE_WAIT = 10.0  # the longest 429 worth waiting out for a request that is not paced
_FORGET_AFTER = 4096  # chats remembered before those with no message due are dropped


@dataclass(frozen=True)
class FloodLimits:
    """Least time between two messages (sent or edited) to one chat, in seconds: Telegram allows about
    one a second in a private chat and twenty a minute in a group. ``attempts``: tries for a message that
    must get through, each 429 waited out for the ``retry_after`` Telegram asks for."""

    private: float = 1.0
    group: float = 3.0
    attempts: int = 3


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait (the attribute's type depends on the PTB_TIMEDELTA switch)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Pacer:
    """Gives each chat its turns: one message per interval, later when Telegram asked us to wait."""

    def __init__(self, limits: FloodLimits) -> None:
        self.limits = limits
        self._next: dict[int, float] = {}  # chat id → loop time of its next free turn

    def _interval(self, chat_id: int) -> float:
        return self.limits.private if chat_id > 0 else self.limits.group  # groups have negative ids

    async def turn(self, chat_id: int) -> None:
        """Wait until a message may go to ``chat_id``; book the turn after it."""
        now = asyncio.get_running_loop().time()
        if len(self._next) > _FORGET_AFTER:
            self._next = {chat: due for chat, due in self._next.items() if due > now}
        due = max(now, self._next.get(chat_id, now))
        self._next[chat_id] = due + self._interval(chat_id)
        if due > now:
            await asyncio.sleep(due - now)

    def hold(self, chat_id: int, error: RetryAfter) -> None:
        """Telegram answered 429: nothing goes to ``chat_id`` before its ``retry_after`` has passed."""
        until = asyncio.get_running_loop().time() + retry_seconds(error)
        self._next[chat_id] = max(self._next.get(chat_id, until), until)

    async def send(self, chat_id: int, request: Callable[[], Awaitable[T]]) -> T:
        """Make a request that must get through, in the chat's turn; a 429 is waited out and the request
        tried again, up to ``attempts`` times (then the ``RetryAfter`` is raised)."""
        attempt = 1
        while True:
            await self.turn(chat_id)
            try:
                return await request()
            except RetryAfter as error:
                self.hold(chat_id, error)
                if attempt >= self.limits.attempts:
                    raise
                attempt += 1


async def once_more(request: Callable[[], Awaitable[T]]) -> T:
    """Make a request outside the chats' turns (a button's answer, a deletion, a lookup); after a 429,
    wait what Telegram asked, if short enough, and make it once more."""
    try:
        return await request()
    except RetryAfter as error:
        wait = retry_seconds(error)
        if wait > ONCE_MORE_WAIT:
            raise
        await asyncio.sleep(wait)
        return await request()
