"""The Telegram platform: a python-telegram-bot Application over the engine, its updates taken in by
long polling or a webhook through the inbox (see ``updates``)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, BaseUpdateProcessor, CallbackQueryHandler, ContextTypes

from adapters.telegram.announcements import Announcer
from adapters.telegram.buttons import Buttons
from adapters.telegram.challenges import ChallengeCommands
from adapters.telegram.chat import PLATFORM, Messenger
from adapters.telegram.delivery import Delivery
from adapters.telegram.figures import Figures
from adapters.telegram.group_settings import GroupSettings
from adapters.telegram.handlers import COMMANDS, Handlers
from adapters.telegram.pacing import FloodLimits, Pacer
from adapters.telegram.updates import Feed
from bot.challenges import ChallengeService
from bot.config import Settings
from bot.engine import JobEngine
from bot.errors import ConfigurationError, PlatformNotReady
from bot.logs import log_event

log = logging.getLogger("figurebot.telegram")

MAX_CONCURRENT_UPDATES = 64
MAX_WAITING_PER_CHAT = 100  # updates of one chat waiting for their turn; newer ones are dropped
_UNBOUNDED = 2**30
FLOODED = "You sent a lot at once, so I skipped some of it. Wait a moment, then send again what you need."
LOST = "Something went wrong with what you sent; please send it again."

Dropped = Callable[[int], Awaitable[None]]


class ChatOrder(BaseUpdateProcessor):
    """Updates of different chats are handled at the same time; those of one chat in the order they came.

    An update first waits for its chat's turn, then for one of ``max_concurrent_updates`` slots: a chat
    with a backlog holds one slot, never all of them. PTB's own semaphore, which ``process_update`` takes
    before calling ``do_process_update``, is left unbounded for that reason. Beyond ``max_waiting``
    updates waiting in one chat, newer ones are dropped (a flood must not fill the memory); the chat is
    told once per flood, through ``dropped``."""

    def __init__(
        self,
        dropped: Dropped,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        max_waiting: int = MAX_WAITING_PER_CHAT,
    ) -> None:
        super().__init__(_UNBOUNDED)
        self._dropped = dropped
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._max_waiting = max_waiting
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._waiting: Counter[int | None] = Counter()
        self._told: set[int | None] = set()  # chats told of the flood they are in

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat is not None else None
        if self._waiting[key] >= self._max_waiting:
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never awaited: the update is dropped
            log_event(log, "telegram.backlog_full", logging.WARNING)  # no chat id: it may be a user's
            if key is not None and key not in self._told:
                self._told.add(key)
                await self._dropped(key)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] += 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]
                self._told.discard(key)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


class TelegramAdapter:
    """figurebot as a Telegram bot. ``serve()`` runs until cancelled: long polling by default (updates
    sent while the bot was down are processed), a webhook when ``TELEGRAM_WEBHOOK_URL`` is set.
    It runs the ``/challenge`` command of groups and announces their challenges' phases
    (``challenges`` is started by the caller, after the engine)."""

    def __init__(
        self,
        engine: JobEngine,
        settings: Settings,
        challenges: ChallengeService,
        *,
        flood: FloodLimits | None = None,
    ) -> None:
        if settings.telegram_bot_token is None:
            raise ConfigurationError("Set TELEGRAM_BOT_TOKEN to serve Telegram.")
        self.engine = engine
        self.settings = settings
        self.pacer = Pacer(flood or FloodLimits())
        self.application = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(settings.telegram_api_base_url)
            .base_file_url(settings.telegram_file_base_url)
            .concurrent_updates(ChatOrder(self._tell_flooded))
            .media_write_timeout(60.0)
            .job_queue(None)
            .updater(None)  # updates come in through the inbox: see ``updates``
            .build()
        )
        self.feed = Feed(self.application, engine.inbox, self._tell_lost)
        self.delivery = Delivery(engine, self.bot, self.pacer, challenges)
        messenger = Messenger(self.application.bot, self.pacer)
        figures = Figures(engine, settings, messenger, challenges)
        ChallengeCommands(challenges, messenger).register(self.application)
        GroupSettings(engine, settings, messenger, challenges).register(self.application)
        Handlers(engine, figures, messenger).register(self.application)
        self.application.add_handler(
            CallbackQueryHandler(Buttons(engine, figures, self.delivery, messenger).on_press)
        )
        self.application.add_error_handler(self._on_error)
        self._ready = asyncio.Lock()
        self._stopped = False
        engine.subscribe(PLATFORM, self.delivery.on_event)
        challenges.subscribe(PLATFORM, Announcer(self.bot, self.pacer, challenges))

    async def bot(self) -> Bot:
        """The bot, initialized on first use: the engine may deliver figures before ``serve`` runs."""
        if self._stopped:
            raise PlatformNotReady("the Telegram adapter has stopped")
        async with self._ready:
            await self.application.initialize()
        return self.application.bot

    async def serve(self) -> None:
        """Take updates and answer them until cancelled."""
        application = self.application
        try:
            await self.bot()
            await application.bot.set_my_commands(COMMANDS)
            await application.start()
            await self.feed.resume()  # what came in before the last stop and was not handled yet
            await self._take_updates()
        finally:
            self._stopped = True
            await self.feed.stop()
            if application.running:
                await application.stop()
            await self.delivery.close()
            await application.shutdown()

    async def _take_updates(self) -> None:
        """Long polling, or the webhook when ``TELEGRAM_WEBHOOK_URL`` is set; until cancelled."""
        url = self.settings.telegram_webhook_url
        if not url:
            await self.feed.poll()
            return
        secret = self.settings.telegram_webhook_secret
        await self.feed.serve_webhook(
            url,
            urlsplit(url).path,
            self.settings.telegram_webhook_listen,
            self.settings.telegram_webhook_port,
            # Telegram sends it with every update; requests without it are refused.
            secret.get_secret_value() if secret else secrets.token_urlsafe(32),
        )

    async def _tell_flooded(self, chat_id: int) -> None:
        with contextlib.suppress(TelegramError):
            await self.application.bot.send_message(chat_id, FLOODED)

    async def _tell_lost(self, update: Update) -> None:
        """An update whose handling never finished, given up: its chat hears of it."""
        chat = update.effective_chat
        if chat is not None:
            with contextlib.suppress(TelegramError):
                await self.application.bot.send_message(chat.id, LOST)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The last resort for errors outside the guarded handlers: logged, never raised."""
        log.error("telegram update failed", exc_info=context.error)
