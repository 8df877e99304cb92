"""Requests kept from before Discord is told they arrived until their effect is stored.

Discord never sends an interaction twice, so a crash between its acknowledgement and its effect would lose
it. ``/figure``, "Make my figure", Re-roll and Change theme, and a confirmed forget therefore store what
they need (the photo's URL or the figure re-rolled, the options, the interaction's token) in the engine's
inbox before they defer, and mark it handled once the job is stored or the data is deleted. At the next
start, every request still waiting is carried out: a figure is answered through the interaction while its
15-minute token works, then as a channel message that mentions the member, like any late figure.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass, replace
from enum import StrEnum

import discord

from adapters.discord.connection import Connection
from adapters.discord.downloads import Downloads
from adapters.discord.replies import Reply
from adapters.wording import BROKEN, forget_summary
from bot.engine import JobEngine
from bot.errors import UserFacingError
from bot.intake import IntakeLimits, accept_photo
from bot.jobs import Requester, spec_from_json, spec_to_json
from bot.logs import log_event
from bot.spec import FigureSpec

log = logging.getLogger("figurebot.discord")

PLATFORM = "discord"


class Kind(StrEnum):
    FIGURE = "figure"  # a photo to make a figure of
    REROLL = "reroll"  # another take of a figure (with another theme, maybe)
    FORGET = "forget"  # delete everything of the member


@dataclass(frozen=True)
class Request:
    """What carrying out an acknowledged interaction needs after the interaction itself is gone."""

    kind: Kind
    requester: Requester
    reply: Reply  # its ``message_id`` is 0 until the deferral made the status message
    spec: FigureSpec | None = None
    url: str = ""  # a figure's photo, on Discord's CDN
    max_bytes: int = 0
    job_id: str = ""  # the figure re-rolled

    def dumps(self) -> bytes:
        data = {
            **asdict(self),
            "requester": asdict(self.requester),
            "reply": asdict(self.reply),
            "spec": spec_to_json(self.spec) if self.spec is not None else None,
        }
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def loads(cls, payload: bytes) -> Request:
        data = json.loads(payload)
        return cls(
            **{
                **data,
                "kind": Kind(data["kind"]),
                "requester": Requester(**data["requester"]),
                "reply": Reply(**data["reply"]),
                "spec": spec_from_json(data["spec"]) if data["spec"] is not None else None,
            }
        )


def origin_of(key: str) -> str:
    """The ``origin`` of the job an interaction asks for."""
    return f"discord:interaction:{key}"


class Pending:
    """Stores requests through the engine's inbox, carries them out, and resumes those a crash
    interrupted."""

    def __init__(
        self, engine: JobEngine, downloads: Downloads, limits: IntakeLimits, connection: Connection
    ) -> None:
        self.engine = engine
        self.downloads = downloads
        self.limits = limits
        self.connection = connection

    async def receive(self, key: str, request: Request) -> None:
        """Store the request (before Discord is told it arrived)."""
        await self.engine.inbox.receive(PLATFORM, key, request.requester.user_id, request.dumps())

    async def acknowledged(self, key: str, request: Request) -> None:
        """The deferral made the status message: keep its id with the request."""
        await self.engine.inbox.rewrite(PLATFORM, key, request.dumps())

    async def carry_out(self, key: str, request: Request) -> dict[str, int]:
        """Queue the figure, or forget the member (the counts per kind); the request is handled once that
        is stored, or once it is refused (the refusal is raised for the caller to answer)."""
        if not await self.engine.inbox.start(PLATFORM, key):
            raise UserFacingError(BROKEN)
        try:
            counts = await self._effect(key, request)
        except UserFacingError:
            await self.engine.inbox.handled(PLATFORM, key)
            raise
        await self.engine.inbox.handled(PLATFORM, key)
        return counts

    async def _effect(self, key: str, request: Request) -> dict[str, int]:
        requester, ref, origin = request.requester, request.reply.to_ref(), origin_of(key)
        if request.kind is Kind.FORGET:
            return await self.engine.forget(requester)
        if request.kind is Kind.REROLL:
            await self.engine.reroll(request.job_id, requester, request.spec, ref=ref, origin=origin)
            return {}
        limits = replace(self.limits, max_bytes=request.max_bytes)
        data = await self.downloads.fetch(request.url, limits)
        photo = await asyncio.to_thread(accept_photo, data, limits)
        del data
        await self.engine.submit(requester, photo, request.spec or FigureSpec(), ref=ref, origin=origin)
        return {}

    async def resume(self) -> None:
        """Carry out every request a stop or crash left waiting, oldest first."""
        waiting = await self.engine.inbox.waiting(PLATFORM)
        if waiting:
            log_event(log, "discord.resumed", requests=len(waiting))
        for item in waiting:
            request = await self._with_status_message(Request.loads(item.payload))
            try:
                counts = await self.carry_out(item.key, request)
            except UserFacingError as refusal:
                await self._tell(request, f"⚠️ {refusal.message}")
            except Exception:  # the next start tries it again (a few times at most)
                log.exception("a waiting request failed; it is tried again at the next start")
            else:
                if request.kind is Kind.FORGET:
                    await self._tell(request, forget_summary(counts))

    async def _with_status_message(self, request: Request) -> Request:
        """A request stored before its deferral made the status message (or a button's, whose message is
        the one to answer on) learns that message's id from Discord (``@original``: the interaction's
        first response, or the message of the button), while the token works."""
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

    async def _tell(self, request: Request, text: str) -> None:
        """Say how a resumed request went: on its message while the token works, else in a private
        request's DM or its channel, mentioning the member."""
        reply = request.reply
        member = discord.Object(int(request.requester.user_id))
        with self.connection.rest_context():
            try:
                if reply.message_id and reply.fresh():
                    webhook = self.connection.webhook(reply.application_id, reply.token)
                    await webhook.edit_message(reply.message_id, content=text, view=None)
                elif reply.private:
                    await (await self.connection.create_dm(member)).send(text)
                else:
                    await self.connection.get_partial_messageable(reply.channel_id).send(
                        f"<@{member.id}> {text}",
                        allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=[member]),
                    )
            except discord.HTTPException as error:
                log.warning("could not say how a resumed request went (HTTP %s)", error.status)
