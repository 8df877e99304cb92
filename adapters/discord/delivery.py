"""Telling Discord what happened to a job: throttled edits of the deferred status message, the finished
figure with its buttons (Enter challenge among them while its channel's challenge takes entries in its
theme), and, once the interaction's token has expired, a channel message (or a DM)."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from dataclasses import dataclass
from typing import Any

import discord
from PIL import Image

from adapters.discord.connection import Connection
from adapters.discord.replies import Reply, plain
from adapters.discord.views import result_view
from adapters.wording import describe, job_status_line
from bot.challenges import ChallengeService
from bot.errors import PlatformNotReady
from bot.jobs import EventKind, Job, JobEvent
from bot.output import small_jpeg
from bot.themes import find_theme

log = logging.getLogger("figurebot.discord")

EDIT_INTERVAL = 2.0  # seconds between progress edits of one status message
PREVIEW_SIDE = 512
TOKEN_UNUSABLE = (401, 403, 404)  # invalid or expired webhook token, unknown message


class NotConnected(PlatformNotReady):
    """Discord is not reachable yet; the engine retries the delivery."""


@dataclass(frozen=True)
class Result:
    """A finished figure as a message: the embed, the file and the buttons."""

    embed: discord.Embed
    data: bytes
    filename: str
    view: discord.ui.View

    def file(self) -> discord.File:
        return discord.File(io.BytesIO(self.data), filename=self.filename)


def result_of(job: Job, figure: bytes, figure_format: str, enterable: bool = False) -> Result:
    """The message that shows ``figure``: name, theme, generator and the generator's notes in an embed,
    and the job's buttons (with Enter challenge when ``enterable``)."""
    theme = find_theme(job.spec.theme)
    filename = f"figure-{job.id}.{'jpg' if figure_format == 'jpeg' else figure_format}"
    colour = discord.Colour.from_rgb(*theme.palette.accent)
    # Names and free-text themes are anyone's words: markdown and masked links stay text.
    notes = "\n".join(discord.utils.escape_markdown(note) for note in job.notes)  # they quote user words
    embed = discord.Embed(
        title=discord.utils.escape_markdown(job.spec.name), description=notes or None, colour=colour
    )
    embed.add_field(name="Theme", value=discord.utils.escape_markdown(theme.name))
    embed.add_field(name="Made with", value=job.painter)
    embed.set_image(url=f"attachment://{filename}")
    return Result(embed, figure, filename, result_view(job.id, enterable))


def preview_file(image: Image.Image) -> discord.File:
    """A small JPEG of a generator's preview."""
    return discord.File(io.BytesIO(small_jpeg(image, PREVIEW_SIDE)), filename="preview.jpg")


def status_line(event: JobEvent, reply: Reply) -> str:
    """The job's status for its status message, with the reply's note under it."""
    status = plain(job_status_line(event))
    return f"{status}\n{reply.note}" if reply.note else status


class Delivery:
    """The engine's event handler for Discord jobs."""

    def __init__(
        self, client: Connection, challenges: ChallengeService, edit_interval: float = EDIT_INTERVAL
    ) -> None:
        self.client = client
        self.challenges = challenges
        self.edit_interval = edit_interval
        self._last_edit: dict[str, float] = {}
        self._held: dict[str, Image.Image] = {}  # the latest preview an edit could not carry yet, by job

    async def on_event(self, event: JobEvent) -> None:
        """Show a status change, or deliver a finished job (raising when it must be tried again)."""
        final = event.kind in (EventKind.DONE, EventKind.FAILED)
        if final or event.kind is EventKind.CANCELLED:
            self._last_edit.pop(event.job.id, None)
            self._held.pop(event.job.id, None)
        reply = Reply.from_ref(event.job.ref)
        if reply is None:
            if final:
                log.warning("job %s has no Discord reply to deliver to", event.job.id)
            return
        if not self.client.logged_in:
            if final:
                raise NotConnected("not logged in to Discord yet")
            return
        with self.client.rest_context():
            if final:
                await self._deliver(event, reply)
            else:
                await self._show_status(event, reply)

    def _webhook(self, reply: Reply) -> discord.Webhook:
        return self.client.webhook(reply.application_id, reply.token)

    def _due(self, job_id: str) -> bool:
        """Whether a progress edit of the job's status may go out now. Edits older than the interval hold
        nothing back and are dropped, so a job that ends without a final event (forgotten while painting)
        leaves nothing behind."""
        now = time.monotonic()
        self._last_edit = {job: at for job, at in self._last_edit.items() if now - at < self.edit_interval}
        self._held = {
            job: preview for job, preview in self._held.items() if job in self._last_edit or job == job_id
        }
        if job_id in self._last_edit:
            return False
        self._last_edit[job_id] = now
        return True

    async def _show_status(self, event: JobEvent, reply: Reply) -> None:
        if not reply.fresh():
            return
        if event.kind is EventKind.PROGRESS and not self._due(event.job.id):
            if event.preview is not None:  # shown with the next edit that may go out
                self._held[event.job.id] = event.preview
            return
        options: dict[str, Any] = {"content": status_line(event, reply)}
        preview = event.preview or self._held.pop(event.job.id, None)
        if preview is not None:
            options["attachments"] = [await asyncio.to_thread(preview_file, preview)]
        await self._edit_status(reply, **options)

    async def _edit_status(self, reply: Reply, **options: Any) -> None:
        """Edit the job's status message; a failure is only logged, as more news follows."""
        try:
            await self._webhook(reply).edit_message(reply.message_id, **options)
        except discord.HTTPException as error:
            log.warning("status edit failed: HTTP %s", error.status)

    async def _deliver(self, event: JobEvent, reply: Reply) -> None:
        """The figure (or the reason it failed) to the owner: through the interaction while its token
        works, else as a channel message that mentions them (a DM for private figures)."""
        result = None
        if event.kind is EventKind.DONE and event.figure is not None:
            enterable = await self.challenges.can_enter(event.job)
            result = result_of(event.job, event.figure, event.figure_format or "png", enterable)
        if reply.fresh():
            try:
                await self._answer(event, reply, result)
                return
            except discord.HTTPException as error:
                if error.status not in TOKEN_UNUSABLE:
                    raise
                log.info("interaction token no longer works (HTTP %s); posting instead", error.status)
        await self._post(event, reply, result)

    async def _answer(self, event: JobEvent, reply: Reply, result: Result | None) -> None:
        """Through the interaction: a private figure replaces the status message; a public one follows it."""
        webhook = self._webhook(reply)
        status = status_line(event, reply)
        if result is None:
            await webhook.edit_message(reply.message_id, content=status, attachments=[])
        elif reply.private:
            await webhook.edit_message(
                reply.message_id,
                content=None,
                embed=result.embed,
                attachments=[result.file()],
                view=result.view,
            )
        else:
            # A follow-up sent while "thinking…" still shows would take its place, private: the status edit
            # must have gone through first (a failure is raised like the follow-up's own).
            await webhook.edit_message(reply.message_id, content=status, attachments=[])
            await webhook.send(embed=result.embed, file=result.file(), view=result.view, wait=True)

    async def _post(self, event: JobEvent, reply: Reply, result: Result | None) -> None:
        owner = discord.Object(int(event.job.requester.user_id))
        text = f"<@{owner.id}> " + (
            f"your figure of {plain(describe(event.job.spec))} is ready."
            if result
            else plain(job_status_line(event))
        )
        options: dict[str, Any] = {
            "content": text,
            "allowed_mentions": discord.AllowedMentions(everyone=False, roles=False, users=[owner]),
        }
        if result is not None:
            options |= {"embed": result.embed, "file": result.file(), "view": result.view}
        if not reply.private:
            try:
                await self.client.get_partial_messageable(reply.channel_id).send(**options)
                return
            except (discord.Forbidden, discord.NotFound) as error:
                log.warning("cannot post in the job's channel (HTTP %s); sending a DM", error.status)
            if result is not None:
                options["file"] = result.file()  # the first attempt consumed it
        try:
            channel = await self.client.create_dm(owner)
            await channel.send(**options)
        except (discord.Forbidden, discord.NotFound) as error:
            log.warning("job %s could not be delivered anywhere (HTTP %s)", event.job.id, error.status)
