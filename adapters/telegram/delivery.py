"""Where a job shows in the chat: one status message, edited as the job moves, then the figure itself.

Status edits are best effort and coalesced: a line waits for the chat's turn (see ``pacing``) and only
the newest waiting line is sent. The final answer (the figure, or why there is none) must get through:
when it cannot yet, the handler raises and the engine delivers it again later; it marks a job delivered
only once the handler returned, so each figure reaches its chat once.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image
from telegram import Bot, InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from adapters.telegram.chat import replying_to
from adapters.telegram.keyboards import figure_keyboard
from adapters.telegram.pacing import Pacer
from adapters.wording import figure_caption, job_status_line
from bot.challenges import ChallengeService
from bot.engine import JobEngine
from bot.jobs import EventKind, Job, JobEvent
from bot.logs import log_event
from bot.output import small_jpeg

log = logging.getLogger("figurebot.telegram")

PHOTO_MAX_BYTES = 10 * 1024 * 1024  # sendPhoto's limits; a figure beyond them goes as a document
PHOTO_MAX_SIDES = 10_000  # width + height
PHOTO_MAX_RATIO = 20
PREVIEW_SIDE = 640
# Seconds to wait for Telegram's answer to an upload. Far more than PTB's 5 s: a figure whose answer is
# late was most likely posted, and a timeout would make the engine post it again.
MEDIA_READ_TIMEOUT = 90.0
PROGRESS = (EventKind.QUEUED, EventKind.STARTED, EventKind.PROGRESS)
FORGOTTEN = "Stopped: you asked me to forget everything about you."

BotSource = Callable[[], Awaitable[Bot]]


@dataclass
class Ref:
    """The adapter's note on a job, stored with it as ``job.ref`` so that it survives restarts."""

    chat: int
    status: int | None  # the status message
    reply_to: int | None = None  # the message the figure answers: the photo, or the figure re-rolled
    media: bool = False  # the status message is a photo (a preview): its caption holds the line

    def dumps(self) -> str:
        data = {"chat": self.chat, "status": self.status, "reply": self.reply_to, "media": self.media}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def of(cls, job: Job) -> Ref:
        """The job's stored note; for a job without one, its chat with no status message yet."""
        try:
            data: Any = json.loads(job.ref or "")
            chat, status, reply, media = data["chat"], data["status"], data["reply"], data["media"]
            if isinstance(chat, int) and all(isinstance(v, int | None) for v in (status, reply)):
                return cls(chat, status, reply, bool(media))
        except (ValueError, TypeError, KeyError):
            pass
        return cls(int(job.requester.chat_id), None)


def fits_send_photo(data: bytes, fmt: str) -> bool:
    """Whether Telegram takes the figure as a photo (else it goes as a document)."""
    if fmt not in ("png", "jpeg") or len(data) > PHOTO_MAX_BYTES:
        return False
    with Image.open(io.BytesIO(data)) as image:  # reads the header only
        width, height = image.size
    return width + height <= PHOTO_MAX_SIDES and max(width, height) <= PHOTO_MAX_RATIO * min(width, height)


class StatusMessage:
    """One job's status message; lines wait for the chat's turn, and only the newest one is sent."""

    def __init__(self, delivery: Delivery, job_id: str, ref: Ref) -> None:
        self.delivery = delivery
        self.job_id = job_id
        self.ref = ref
        self._line: str | None = None
        self._preview: Image.Image | None = None
        self._task: asyncio.Task[None] | None = None
        self._sending = False
        self._stopped = False

    def show(self, line: str, preview: Image.Image | None) -> None:
        if self._stopped:
            return
        self._line = line
        self._preview = preview or self._preview
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    async def stop(self) -> None:
        """Drop waiting lines and wait for a request under way, before the final answer. That request is
        never cancelled: it may have reached Telegram, and its message would be left behind unknown."""
        self._stopped = True
        self._line = self._preview = None
        if self._task is not None:
            if not self._sending:  # only waiting for the chat's turn
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _flush(self) -> None:
        pacer = self.delivery.pacer
        while self._line is not None and not self._stopped:
            await pacer.turn(self.ref.chat)  # then the newest line: those that came meanwhile are skipped
            line, preview = self._line, self._preview
            self._line = self._preview = None
            self._sending = True
            try:
                await self._put(line, preview)
            except RetryAfter as error:
                pacer.hold(self.ref.chat, error)
                if not self._stopped:
                    self._line = self._line or line
                    self._preview = self._preview or preview
            except TelegramError as error:  # e.g. "message is not modified"; a status line is not worth more
                log.debug("status edit skipped: %s", error.message)
            finally:
                self._sending = False

    async def _put(self, line: str, preview: Image.Image | None) -> None:
        bot = await self.delivery.bot()
        chat, message = self.ref.chat, self.ref.status
        if preview is not None:
            await self._show_preview(bot, line, preview)
        elif message is None:
            sent = await bot.send_message(chat, line, reply_parameters=replying_to(self.ref.reply_to))
            await self._moved(sent.message_id, media=False)
        elif self.ref.media:
            await bot.edit_message_caption(chat_id=chat, message_id=message, caption=line)
        else:
            await bot.edit_message_text(line, chat_id=chat, message_id=message)

    async def _show_preview(self, bot: Bot, line: str, preview: Image.Image) -> None:
        """A text message cannot become a photo: the first preview replaces it with a photo message."""
        data = await asyncio.to_thread(small_jpeg, preview, PREVIEW_SIDE)
        if self.ref.media and self.ref.status is not None:
            media = InputMediaPhoto(data, caption=line)
            await bot.edit_message_media(
                media, chat_id=self.ref.chat, message_id=self.ref.status, read_timeout=MEDIA_READ_TIMEOUT
            )
            return
        sent = await bot.send_photo(
            self.ref.chat,
            data,
            caption=line,
            reply_parameters=replying_to(self.ref.reply_to),
            read_timeout=MEDIA_READ_TIMEOUT,
        )
        old = self.ref.status
        await self._moved(sent.message_id, media=True)
        if old is not None:
            with contextlib.suppress(TelegramError):
                await bot.delete_message(self.ref.chat, old)

    async def _moved(self, message_id: int, media: bool) -> None:
        """The status now lives in another message: remember it in the store, even if stopped meanwhile."""
        self.ref.status, self.ref.media = message_id, media
        await asyncio.shield(self.delivery.engine.set_ref(self.job_id, self.ref.dumps()))


class Delivery:
    """Turns the engine's events about Telegram jobs into status edits and the final figure."""

    def __init__(self, engine: JobEngine, bot: BotSource, pacer: Pacer, challenges: ChallengeService) -> None:
        self.engine = engine
        self.bot = bot
        self.pacer = pacer
        self.challenges = challenges
        self._statuses: dict[str, StatusMessage] = {}

    async def figure_markup(self, job: Job) -> InlineKeyboardMarkup:
        """The buttons under a figure; with Enter challenge while its chat's challenge would take it."""
        return figure_keyboard(job.id, challenge=await self.challenges.can_enter(job))

    def _status(self, job: Job) -> StatusMessage:
        status = self._statuses.get(job.id)
        if status is None:
            status = self._statuses[job.id] = StatusMessage(self, job.id, Ref.of(job))
        return status

    def _take(self, job: Job) -> StatusMessage:
        """The job's status message, no longer kept: its last word follows."""
        return self._statuses.pop(job.id, None) or StatusMessage(self, job.id, Ref.of(job))

    async def on_event(self, event: JobEvent) -> None:
        """The engine's event handler for the ``telegram`` platform."""
        if event.kind in PROGRESS:
            self._status(event.job).show(job_status_line(event), event.preview)
            return
        status = self._take(event.job)
        await status.stop()
        if event.kind is EventKind.DONE and event.figure is not None:
            await self._deliver_figure(event, status.ref)
        else:
            await self._final_line(status.ref, job_status_line(event))

    async def forgotten(self, jobs: list[Job]) -> None:
        """These jobs were in the works when their owner used /forget: say so on their status messages."""
        for job in jobs:
            status = self._take(job)
            await status.stop()
            try:
                await self._final_line(status.ref, FORGOTTEN)
            except TelegramError as error:
                log.debug("status of a forgotten job left as it was: %s", error.message)

    async def close(self) -> None:
        await asyncio.gather(*(status.stop() for status in self._statuses.values()))
        self._statuses.clear()

    async def _must_send(self, ref: Ref, request: Callable[[], Awaitable[object]]) -> None:
        """Make a request that must reach the chat. It raises (so the engine tries again later) only
        when a later try may succeed; a chat that is gone or blocked the bot is logged and given up.
        A group that became a supergroup under a new id gets one more try there."""
        try:
            try:
                await self.pacer.send(ref.chat, request)
            except ChatMigrated as moved:
                ref.chat = moved.new_chat_id
                await self.pacer.send(ref.chat, request)
        except (Forbidden, BadRequest, ChatMigrated) as error:
            log_event(log, "telegram.undeliverable", logging.WARNING, error=error.message)

    async def _deliver_figure(self, event: JobEvent, ref: Ref) -> None:
        bot = await self.bot()
        job, data, fmt = event.job, event.figure or b"", event.figure_format or "png"
        extension = "jpg" if fmt == "jpeg" else fmt
        options: dict[str, Any] = {
            "caption": figure_caption(job),
            "reply_markup": await self.figure_markup(job),
            "filename": f"figure-{job.id}.{extension}",
            "read_timeout": MEDIA_READ_TIMEOUT,
        }
        as_photo = await asyncio.to_thread(fits_send_photo, data, fmt)
        forgotten = False

        async def send() -> None:
            nonlocal as_photo, forgotten
            # The turn may have come after a long wait (a 429): the owner may have had it forgotten since.
            forgotten = not await self.engine.exists(job.id)
            if forgotten:
                return
            reply = replying_to(ref.reply_to)
            if as_photo:
                try:
                    await bot.send_photo(ref.chat, data, reply_parameters=reply, **options)
                    return
                except BadRequest as error:  # a limit we did not foresee: the document has none of them
                    log.warning("figure refused as a photo, sending it as a document: %s", error.message)
                    as_photo = False
            await bot.send_document(ref.chat, data, reply_parameters=reply, **options)

        await self._must_send(ref, send)
        if forgotten:
            log_event(log, "telegram.figure_dropped", job=job.id)
            await self._final_line(ref, FORGOTTEN)
        elif ref.status is not None:
            with contextlib.suppress(TelegramError):
                await bot.delete_message(ref.chat, ref.status)

    async def _final_line(self, ref: Ref, line: str) -> None:
        """Put the last word on the status message; a new message when it is gone."""
        bot = await self.bot()

        async def put() -> None:
            if ref.status is not None:
                try:
                    if ref.media:
                        await bot.edit_message_caption(chat_id=ref.chat, message_id=ref.status, caption=line)
                    else:
                        await bot.edit_message_text(line, chat_id=ref.chat, message_id=ref.status)
                    return
                except BadRequest as error:
                    if "not modified" in error.message.lower():
                        return
            await bot.send_message(ref.chat, line, reply_parameters=replying_to(ref.reply_to))

        await self._must_send(ref, put)
