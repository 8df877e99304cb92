"""Telegram's markup for the shared wording: its HTML parse mode. Telegram has no timestamps that read in
each reader's time zone, so a deadline is said as the time left; a member is a ``tg://user`` link under
the name the group knows them by."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field

from telegram.constants import ParseMode

from bot.durations import duration_words

PARSE_MODE = ParseMode.HTML
FORMER_MEMBER = "a former member"


def escaped(text: str) -> str:
    """``text`` shown as it is in an HTML message."""
    return html.escape(text, quote=False)


@dataclass(frozen=True)
class Html:
    """The ``Markup`` of Telegram messages sent with ``PARSE_MODE``, at the moment ``now``, naming members
    from ``names`` (user id → name; a member missing from it left the group)."""

    now: float
    names: Mapping[str, str] = field(default_factory=dict)

    def bold(self, text: str) -> str:
        return f"<b>{escaped(text)}</b>"

    def mention(self, user_id: str) -> str:
        name = self.names.get(user_id)
        if name is None:
            return FORMER_MEMBER
        return f'<a href="tg://user?id={int(user_id)}">{escaped(name)}</a>'

    def deadline(self, moment: float | None) -> str:
        return "soon" if moment is None else f"in {duration_words(moment - self.now)}"
