"""Wiring: settings → logging, key, store, generators and engine; and serving until a signal arrives."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import NamedTuple, Protocol

from bot.challenges import ChallengeService
from bot.config import Settings
from bot.engine import JobEngine
from bot.errors import ConfigurationError
from bot.generators.base import Generator
from bot.generators.local import LocalGenerator
from bot.logs import log_event
from bot.privacy import Vault, load_key
from bot.store.repository import Store

log = logging.getLogger("figurebot")


def secrets_of(settings: Settings) -> list[str]:
    """Every configured secret value, for the log redactor."""
    values = []
    for name, value in settings:
        if hasattr(value, "get_secret_value") and value is not None:
            values.append(value.get_secret_value())
        elif name.endswith(("_token", "_key")) and isinstance(value, str):
            values.append(value)
    return values


class PlatformAdapter(Protocol):
    """A chat platform served by ``figurebot run``."""

    async def serve(self) -> None: ...


AdapterFactory = Callable[[JobEngine, ChallengeService], PlatformAdapter]


def platform_adapters(settings: Settings) -> dict[str, AdapterFactory]:
    """Factories of the chat platforms whose token is configured, by name (imported only when used)."""
    factories: dict[str, AdapterFactory] = {}
    if settings.telegram_bot_token is not None:

        def telegram(engine: JobEngine, challenges: ChallengeService) -> PlatformAdapter:
            from adapters.telegram import TelegramAdapter

            return TelegramAdapter(engine, settings, challenges)

        factories["telegram"] = telegram
    if settings.discord_token is not None:

        def discord(engine: JobEngine, challenges: ChallengeService) -> PlatformAdapter:
            from adapters.discord import DiscordAdapter

            return DiscordAdapter(engine, settings, challenges)

        factories["discord"] = discord
    return factories


def generators(settings: Settings) -> dict[str, Generator]:
    """The generators this process can run: always the local one, OpenAI's and Gemini's when their key
    is set, ComfyUI's when servers are named."""
    local = LocalGenerator((settings.figure_width, settings.figure_height))
    available: dict[str, Generator] = {"local": local}
    if settings.openai_api_key is not None:
        from bot.generators.openai import OpenAIGenerator

        available["openai"] = OpenAIGenerator(settings, local)
    if settings.gemini_api_key is not None:
        from bot.generators.gemini import GeminiGenerator

        available["gemini"] = GeminiGenerator(settings, local)
    if settings.comfyui_servers:
        from bot.generators.comfyui.generator import ComfyUIGenerator

        available["comfyui"] = ComfyUIGenerator(settings, local)
    if settings.figurebot_generator not in available:
        needs = {
            "openai": " (set OPENAI_API_KEY)",
            "gemini": " (set GEMINI_API_KEY)",
            "comfyui": " (set COMFYUI_URLS)",
        }.get(settings.figurebot_generator, "")
        raise ConfigurationError(
            f"FIGUREBOT_GENERATOR={settings.figurebot_generator} is not available{needs}; "
            f"choose one of: {', '.join(available)}."
        )
    return available


class Core(NamedTuple):
    """The core's services over one store, for adapters to be built on."""

    engine: JobEngine
    challenges: ChallengeService


@asynccontextmanager
async def running_core(settings: Settings) -> AsyncIterator[Core]:
    """The engine and the challenges over the configured store; the engine stopped gracefully (jobs put
    back) on exit."""
    store = await Store.open(settings.database, Vault(load_key(settings)))
    engine = JobEngine(store, generators(settings), settings)
    try:
        yield Core(engine, ChallengeService(engine, store.challenges))
    finally:
        await engine.stop()
        await store.close()


class PlatformsFailed(Exception):
    """Every chat platform stopped with an error (each was logged)."""


async def serve_platforms(adapters: dict[str, PlatformAdapter]) -> None:
    """Serve every platform at once; one that fails is logged (secrets redacted) and the others go on.
    Raises ``PlatformsFailed`` once all of them have failed."""

    async def supervised(name: str, adapter: PlatformAdapter) -> bool:
        try:
            await adapter.serve()
        except Exception:
            log.exception("%s stopped with an error; the other platforms go on", name)
            return False
        return True

    results = await asyncio.gather(*(supervised(name, adapter) for name, adapter in adapters.items()))
    if not any(results):
        raise PlatformsFailed


async def serve_until_signal(
    main: Callable[[], Awaitable[None]], before_stop: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Run ``main`` until it returns or SIGINT/SIGTERM arrives, whichever is first. On a signal,
    ``before_stop`` runs first (e.g. letting running figures finish and reach their chats)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    work = asyncio.create_task(main())
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait([work, waiter], return_when=asyncio.FIRST_COMPLETED)
    if stop.is_set():
        log_event(log, "shutdown", reason="signal")
        if before_stop is not None and not work.done():
            await before_stop()
        work.cancel()
    waiter.cancel()
    await asyncio.gather(work, waiter, return_exceptions=True)
    if work.done() and not work.cancelled() and work.exception():
        raise work.exception()
