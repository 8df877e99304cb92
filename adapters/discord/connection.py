"""The Discord client as the modules that post outside an interaction see it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

import discord


class Connection(Protocol):
    """What posting outside an interaction needs of the Discord client (``FigureClient`` has it)."""

    @property
    def logged_in(self) -> bool: ...

    @property
    def user(self) -> discord.ClientUser | None: ...

    def rest_context(self) -> AbstractContextManager[None]:
        """Send the webhook requests made inside to the client's API base."""
        ...

    def webhook(self, application_id: int, token: str) -> discord.Webhook:
        """An interaction's webhook, for its follow-ups and edits."""
        ...

    def get_partial_messageable(self, id: int, /) -> discord.PartialMessageable: ...

    async def create_dm(self, user: discord.abc.Snowflake, /) -> discord.DMChannel: ...
