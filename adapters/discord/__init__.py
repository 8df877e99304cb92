"""figurebot on Discord: ``/figure`` with a photo attached, buttons under each figure, ``/challenge`` for
theme challenges in a channel, and the engine's and the challenges' events turned into messages.
``DiscordAdapter(engine, settings, challenges).serve()`` runs it until cancelled."""

from __future__ import annotations

from adapters.discord.announcements import Announcer
from adapters.discord.client import FigureClient
from adapters.discord.delivery import Delivery
from adapters.discord.replies import PLATFORM
from bot.challenges import ChallengeService
from bot.config import Settings
from bot.engine import JobEngine
from bot.errors import ConfigurationError


class DiscordAdapter:
    """Serves slash commands and buttons with ``DISCORD_TOKEN``, delivers the engine's Discord events and
    announces the phases of challenges in Discord channels (``challenges`` is started by the caller)."""

    def __init__(self, engine: JobEngine, settings: Settings, challenges: ChallengeService) -> None:
        if settings.discord_token is None:
            raise ConfigurationError("DISCORD_TOKEN is not set")
        self._token = settings.discord_token
        self.client = FigureClient(engine, settings, challenges)
        self.delivery = Delivery(self.client, challenges)
        engine.subscribe(PLATFORM, self.delivery.on_event)
        challenges.subscribe(PLATFORM, Announcer(self.client))

    async def serve(self) -> None:
        """Log in, sync the commands and answer interactions until cancelled; then disconnect."""
        with self.client.rest_context():
            try:
                await self.client.start(self._token.get_secret_value())
            finally:
                await self.client.close()


__all__ = ["DiscordAdapter"]
