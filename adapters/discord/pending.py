"""Figure requests kept from before Discord is told they arrived until their job is stored.

Discord never sends an interaction twice, so a crash between its acknowledgement and its job would lose
it. ``/figure`` and "Make my figure" therefore store the request (the photo's URL, the options, the
interaction's token) in the engine's inbox before they defer, and mark it handled once the job is stored.
At the next start, every request still waiting is made: its figure is answered through the interaction
while its 15-minute token works, then as a channel message that mentions the member, like any late figure.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass, replace

import discord

from adapters.discord.delivery import Connection
from adapters.discord.downloads import Downloads
from adapters.discord.replies import Reply
from adapters.wording import BROKEN
from bot.engine import JobEngine
from bot.errors import UserFacingError
from bot.intake import IntakeLimits, accept_photo
from bot.jobs import Requester, spec_from_json, spec_to_json
from bot.logs import log_event
from bot.spec import FigureSpec

log = logging.getLogger("figurebot.discord")

PLATFORM = "discord"


@dataclass(frozen=True)
class FigureRequest:
    """What making a figure needs after the interaction itself is gone."""

    requester: Requester
    spec: FigureSpec
    url: str  # the attachment on Discord's CDN
    max_bytes: int
    reply: Reply  # its ``message_id`` is 0 until the deferral made the status message

    def dumps(self) -> bytes:
        data = {
            "requester": asdict(self.requester),
            "spec": spec_to_json(self.spec),
            "url": self.url,
            "max_bytes": self.max_bytes,
            "reply": asdict(self.reply),
        }
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def loads(cls, payload: bytes) -> FigureRequest:
        data = json.loads(payload)
        return cls(
            Requester(**data["requester"]),
            spec_from_json(data["spec"]),
            data["url"],
            data["max_bytes"],
            Reply(**data["reply"]),
        )


def origin_of(key: str) -> str:
    """The ``origin`` of the job an interaction asks for."""
    return f"discord:interaction:{key}"


class PendingFigures:
    """Stores figure requests through the engine's inbox, makes their jobs, and resumes those a crash
    interrupted."""

    def __init__(
        self, engine: JobEngine, downloads: Downloads, limits: IntakeLimits, connection: Connection
    ) -> None:
        self.engine = engine
        self.downloads = downloads
        self.limits = limits
        self.connection = connection

    async def receive(self, key: str, request: FigureRequest) -> None:
        """Store the request (before Discord is told it arrived)."""
        await self.engine.inbox.receive(PLATFORM, key, request.requester.user_id, request.dumps())

    async def acknowledged(self, key: str, request: FigureRequest) -> None:
        """The deferral made the status message: keep its id with the request."""
        await self.engine.inbox.rewrite(PLATFORM, key, request.dumps())

    async def make(self, key: str, request: FigureRequest) -> None:
        """Download and clean the photo and queue the job; the request is handled once the job is stored,
        or once it is refused (the refusal is raised for the caller to answer)."""
        if not await self.engine.inbox.start(PLATFORM, key):
            raise UserFacingError(BROKEN)
        try:
            limits = replace(self.limits, max_bytes=request.max_bytes)
            data = await self.downloads.fetch(request.url, limits)
            photo = await asyncio.to_thread(accept_photo, data, limits)
            del data
            ref = request.reply.to_ref()
            await self.engine.submit(request.requester, photo, request.spec, ref=ref, origin=origin_of(key))
        except UserFacingError:
            await self.engine.inbox.handled(PLATFORM, key)
            raise
        await self.engine.inbox.handled(PLATFORM, key)

    async def resume(self) -> None:
        """Make every request a stop or crash left waiting, oldest first."""
        waiting = await self.engine.inbox.waiting(PLATFORM)
        if waiting:
            log_event(log, "discord.resumed", requests=len(waiting))
        for item in waiting:
            request = await self._with_status_message(FigureRequest.loads(item.payload))
            try:
                await self.make(item.key, request)
            except UserFacingError as refusal:
                await self._tell(request, refusal.message)
            except Exception:  # the next start tries it again (a few times at most)
                log.exception("a waiting figure request failed; it is tried again at the next start")

    async def _with_status_message(self, request: FigureRequest) -> FigureRequest:
        """A request stored before its deferral made the status message learns that message's id from
        Discord (``@original``: the interaction's first response), while the token works."""
        reply = request.reply
        if reply.message_id or not reply.fresh():
            return request
        webhook = self.connection.webhook(reply.application_id, reply.token)
        with self.connection.rest_context():
            try:
                original = await webhook.fetch_message("@original")  # type: ignore[arg-type]
            except discord.HTTPException:  # never deferred: the figure goes to the channel
                return request
        return replace(request, reply=replace(reply, message_id=original.id))

    async def _tell(self, request: FigureRequest, text: str) -> None:
        """Say why a resumed request made no figure: on its status message while the token works, else in
        its channel, mentioning the member."""
        reply = request.reply
        with self.connection.rest_context():
            try:
                if reply.message_id and reply.fresh():
                    webhook = self.connection.webhook(reply.application_id, reply.token)
                    await webhook.edit_message(reply.message_id, content=f"⚠️ {text}")
                    return
                member = int(request.requester.user_id)
                await self.connection.get_partial_messageable(reply.channel_id).send(
                    f"<@{member}> ⚠️ {text}",
                    allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
                )
            except discord.HTTPException as error:
                log.warning("could not say why a resumed figure was not made (HTTP %s)", error.status)
