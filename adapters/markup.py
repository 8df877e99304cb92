"""How a chat marks text up, so that shared wording is written once and each chat dresses it its way."""

from __future__ import annotations

from typing import Protocol


class Markup(Protocol):
    """One chat's markup. Every method takes plain text, user input included, and returns it ready for
    that chat's messages: nothing in the text itself can format, link or mention anyone."""

    def bold(self, text: str) -> str:
        """``text`` shown in bold."""

    def mention(self, user_id: str) -> str:
        """The member with that id, as readers of the chat recognise them."""

    def deadline(self, moment: float | None) -> str:
        """When ``moment`` (Unix seconds) comes, to follow "closes": "in 2 hours"; "soon" when unknown."""
