"""Where Telegram's updates come in: long polling or a webhook, each update stored before it is confirmed.

python-telegram-bot's own updater confirms updates as soon as it has fetched them (the next
``getUpdates`` offset, the webhook's 200), before any handler ran: a crash then loses them. Here every
update goes into the engine's inbox first. Polling asks for the next updates only once those of the last
batch are stored; the webhook answers 200 only once the update's effect is stored (a 5xx makes Telegram
send it again). What was stored and not handled when the process stopped is handled at the next start,
and an update Telegram sends twice is recognised by its ``update_id`` and handled once.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from telegram import Update
from telegram.error import Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application

from adapters.telegram.pacing import retry_seconds
from bot.inbox import Arrival, Inbox, Start
from bot.logs import log_event

log = logging.getLogger("figurebot.telegram")

PLATFORM = "telegram"
ALLOWED_UPDATES = ("message", "callback_query")
LONG_POLL = 30  # seconds a getUpdates call waits for updates
MAX_BACKOFF = 60.0  # the longest pause between polls when Telegram cannot be reached
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024  # an update is JSON about a message (files are fetched apart)
FINISH_GRACE = 10.0  # seconds handling under way may take to finish when the feed stops

GaveUp = Callable[[Update], Awaitable[None]]


class Feed:
    """Takes updates in, through the inbox, and hands them to the application's handlers."""

    def __init__(self, application: Application, inbox: Inbox, gave_up: GaveUp) -> None:
        self._application = application
        self._inbox = inbox
        self._gave_up = gave_up
        self._under_way: dict[str, asyncio.Task[None]] = {}

    async def take(self, update: Update) -> asyncio.Task[None] | None:
        """Store the update, then start handling it; the handling, or ``None`` when it is handled or
        under way already (a second delivery)."""
        key = str(update.update_id)
        user = update.effective_user
        payload = json.dumps(update.to_dict(), separators=(",", ":")).encode()
        arrival = await self._inbox.receive(PLATFORM, key, str(user.id) if user else "", payload)
        if arrival is Arrival.HANDLED or key in self._under_way:
            return None
        return self._start(update)

    async def resume(self) -> None:
        """Start handling what was stored but not handled before the last stop, oldest first."""
        waiting = await self._inbox.waiting(PLATFORM)
        if waiting:
            log_event(log, "telegram.resumed", updates=len(waiting))
        for item in waiting:
            try:
                update = Update.de_json(json.loads(item.payload), self._application.bot)
            except Exception:  # stored by an older version, or damaged: nothing to do with it
                update = None
            if update is None:
                log_event(log, "telegram.unreadable_update", logging.WARNING)
                await self._inbox.handled(PLATFORM, item.key)
            elif item.key not in self._under_way:
                self._start(update)

    def _start(self, update: Update) -> asyncio.Task[None]:
        key = str(update.update_id)
        task = asyncio.create_task(self._handle(key, update))
        self._under_way[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))
        return task

    def _finished(self, key: str, task: asyncio.Task[None]) -> None:
        self._under_way.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("telegram update left for the next start", exc_info=task.exception())

    async def _handle(self, key: str, update: Update) -> None:
        """Run the handlers (in the chat's order, see ``ChatOrder``), then mark the update handled. One
        whose handling was started too often without finishing (it crashed the process) is given up."""
        start = await self._inbox.start(PLATFORM, key)
        if start is Start.GAVE_UP:
            await self._gave_up(update)
        if start is not Start.GO:
            return
        application = self._application
        await application.update_processor.process_update(update, application.process_update(update))
        await self._inbox.handled(PLATFORM, key)

    async def stop(self) -> None:
        """Let handling under way finish for a while; what is cut short is handled at the next start."""
        tasks = list(self._under_way.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=FINISH_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # Long polling

    async def poll(self) -> None:
        """Ask Telegram for updates until cancelled. Each batch is stored before the next request, whose
        offset confirms it; Telegram that cannot be reached is asked again with a growing pause."""
        bot = self._application.bot
        offset: int | None = None
        polling = False  # the webhook is deleted once, before the first poll
        failures = 0
        while True:
            try:
                if not polling:
                    await bot.delete_webhook(drop_pending_updates=False)
                    polling = True
                updates = await bot.get_updates(
                    offset=offset,
                    timeout=LONG_POLL,
                    read_timeout=LONG_POLL + 10,
                    allowed_updates=ALLOWED_UPDATES,
                )
                for update in updates:
                    await self.take(update)
                    offset = update.update_id + 1  # confirmed by the next request, once stored
            except RetryAfter as error:
                await asyncio.sleep(retry_seconds(error))
                continue
            except (InvalidToken, Forbidden):
                raise
            except Exception as error:  # Telegram, the network or the store failed: ask again later
                failures += 1
                pause = min(2.0**failures, MAX_BACKOFF)
                failed = repr(error)[:200]
                log_event(log, "telegram.poll_failed", logging.WARNING, error=failed, retry_in=pause)
                await asyncio.sleep(pause)
                continue
            failures = 0

    # Webhook

    async def serve_webhook(self, url: str, path: str, listen: str, port: int, secret: str) -> None:
        """Serve Telegram's webhook POSTs at ``path`` until cancelled, after telling Telegram the URL."""

        async def on_post(request: web.Request) -> web.Response:
            return await self._on_post(request, secret)

        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_post("/" + path.lstrip("/"), on_post)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, listen, port).start()
            await self._application.bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
            )
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    async def _on_post(self, request: web.Request, secret: str) -> web.Response:
        """200 once the update's effect is stored; 403 without the secret; 5xx when storing or handling
        failed, so that Telegram sends it again."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self._application.bot)
        except Exception:  # not JSON, or JSON that is no update: sending it again would not help
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        try:
            handling = await self.take(update)
            if handling is not None:
                await asyncio.shield(handling)
        except Exception:
            log.exception("telegram update not stored; Telegram will send it again")
            return web.Response(status=500)
        return web.Response()
