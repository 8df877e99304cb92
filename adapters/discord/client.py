"""The discord.py client: REST and gateway at the configured base URLs, commands synced at start.

discord.py builds every REST URL from the class attribute ``discord.http.Route.BASE`` and connects to its
default gateway. Rather than change that class attribute for the whole process, this client rebases URLs
where its own requests leave: a subclass of discord.py's ``HTTPClient`` (bot REST calls and the gateway
socket) and of its ``AsyncWebhookAdapter`` (interaction callbacks, follow-ups and ``@original`` edits, which
discord.py routes through the ``async_context`` context variable). ``rest_context()`` installs the latter
for the code that runs inside it, so two clients with different base URLs can share a process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord
import yarl
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from adapters.discord.announcements import VoteButton
from adapters.discord.challenges import ChallengeCommands
from adapters.discord.commands import FigureCommands
from adapters.discord.downloads import Downloads
from adapters.discord.pending import Pending
from adapters.discord.tree import FigureTree
from adapters.discord.views import DYNAMIC_ITEMS, Buttons
from bot.challenges import ChallengeService
from bot.config import Settings
from bot.engine import JobEngine
from bot.intake import IntakeLimits

log = logging.getLogger("figurebot.discord")


def rebase(url: str, api_base: str) -> str:
    """``url`` built on discord.py's default API base, moved onto ``api_base``."""
    default = Route.BASE
    return api_base + url[len(default) :] if url.startswith(default) else url


class RebasedHTTP(HTTPClient):
    """discord.py's HTTP client, sending REST calls to ``api_base`` and opening the gateway at ``gateway``
    (when empty, the URL the API gives at login)."""

    def __init__(self, loop: Any, *, api_base: str, gateway: str) -> None:
        super().__init__(loop)
        self.api_base = api_base.rstrip("/")
        self.gateway = gateway

    async def request(self, route: Route, **kwargs: Any) -> Any:
        route.url = rebase(route.url, self.api_base)
        return await super().request(route, **kwargs)

    async def ws_connect(self, url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        # Every socket this client opens is the main gateway (it joins no voice channels), also when
        # discord.py resumes at the URL READY named or falls back to its default after an invalid session.
        if self.gateway:
            url = str(yarl.URL(self.gateway).with_query(yarl.URL(url).query))
        return await super().ws_connect(url, compress=compress)


class RebasedWebhooks(AsyncWebhookAdapter):
    """discord.py's webhook adapter (interaction responses and follow-ups), sending to ``api_base``."""

    def __init__(self, api_base: str) -> None:
        super().__init__()
        self.api_base = api_base.rstrip("/")

    async def request(self, route: Route, *args: Any, **kwargs: Any) -> Any:
        route.url = rebase(route.url, self.api_base)
        return await super().request(route, *args, **kwargs)


def intents() -> discord.Intents:
    """Slash commands and buttons arrive without any intent; ``guilds`` keeps server and channel data
    current. Nothing privileged (members, presences, message content)."""
    return discord.Intents(guilds=True)


class FigureClient(discord.Client):
    """The bot's connection to Discord: its commands, built with the engine and the challenges they work
    on, and the ``Buttons`` that the buttons under its messages find here (see ``views.ButtonHost``)."""

    http: RebasedHTTP

    def __init__(self, engine: JobEngine, settings: Settings, challenges: ChallengeService) -> None:
        self.engine = engine
        self.settings = settings
        self.webhooks = RebasedWebhooks(settings.discord_api_base_url)
        self.logged_in = False
        self.downloads = Downloads()
        self._redelivery: asyncio.Task[int] | None = None
        self._resumed: asyncio.Task[None] | None = None
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none())
        self.tree = FigureTree(self)
        limits = IntakeLimits.from_settings(settings)
        self.pending = Pending(engine, challenges, self.downloads, limits, self)
        self.buttons = Buttons(engine, challenges, self.pending)
        figures = FigureCommands(engine, challenges, self.pending, limits)
        for command in (*figures.commands(), ChallengeCommands(engine, challenges, self.pending)):
            self.tree.add_command(command)

    def _get_state(self, **options: Any) -> Any:
        # discord.py's own hook for building the connection state, which keeps the HTTP client made in
        # ``__init__``: hand it the rebased one instead (it is the one every model object uses).
        self.http = RebasedHTTP(
            self.loop, api_base=self.settings.discord_api_base_url, gateway=self.settings.discord_gateway_url
        )
        return super()._get_state(**options)

    @contextlib.contextmanager
    def rest_context(self) -> Iterator[None]:
        """Send the interaction and webhook requests made inside to this client's API base."""
        token = async_context.set(self.webhooks)
        try:
            yield
        finally:
            async_context.reset(token)

    def webhook(self, application_id: int, token: str) -> discord.Webhook:
        """An interaction's webhook, for its follow-ups and edits."""
        return discord.Webhook.partial(application_id, token, client=self)

    async def setup_hook(self) -> None:
        if not self.http.gateway:
            self.http.gateway = (await self.http.get_bot_gateway())[1]
        self.add_dynamic_items(*DYNAMIC_ITEMS, VoteButton)
        await self.sync_commands()
        self.downloads.open()
        self.logged_in = True
        # Figures that finished while the bot was away (or Discord was unreachable) go out now, and
        # figures asked for just before a crash are made.
        self._redelivery = asyncio.create_task(self.engine.redeliver())
        self._resumed = asyncio.create_task(self.pending.resume())

    async def sync_commands(self) -> None:
        """Register the commands with Discord: in ``DISCORD_GUILD_IDS`` at once, else globally."""
        guilds = self.settings.guild_ids
        for guild_id in guilds:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not guilds:
            await self.tree.sync()
        log.info("commands synced to %s", f"{len(guilds)} server(s)" if guilds else "all servers")

    async def close(self) -> None:
        self.logged_in = False
        for task in (self._redelivery, self._resumed):
            if task is not None:
                task.cancel()
        await self.downloads.close()
        await super().close()
