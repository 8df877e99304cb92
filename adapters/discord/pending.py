"""Requests kept from before Discord is told they arrived until their effect is stored.

Discord never sends an interaction twice, so a crash between its acknowledgement and its effect would lose
it. ``/figure``, "Make my figure", Re-roll and Change theme, a confirmed forget, challenge entries and
votes, and ``/figure-settings`` changes therefore store what they need (the photo's URL or the figure
re-rolled, the options, the interaction's token) in the engine's inbox before they defer, and mark it
handled once their effect is stored. At the next start, every request still waiting is carried out: a
figure is answered through the interaction while its 15-minute token works, then as a channel message that
mentions the member, like any late figure; the others' private answer goes on the interaction's message,
or by DM once its token no longer works.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

import discord

from adapters.challenge_wording import entered_text
from adapters.discord.connection import Connection
from adapters.discord.downloads import Downloads
from adapters.discord.replies import Interaction, Reply, plain, settings_text
from adapters.wording import BROKEN, forget_summary
from bot.challenges import ChallengeService
from bot.engine import JobEngine
from bot.errors import UserFacingError
from bot.inbox import Start
from bot.intake import IntakeLimits, accept_photo
from bot.jobs import Requester, spec_from_json, spec_to_json
from bot.logs import log_event
from bot.spec import FigureSpec

log = logging.getLogger("figurebot.discord")

PLATFORM = "discord"
ALREADY_DONE = "That was done already."


class Kind(StrEnum):
    FIGURE = "figure"  # a photo to make a figure of: args ``url``, ``max_bytes``
    REROLL = "reroll"  # another take of a figure (with another theme, maybe): ``job_id``
    FORGET = "forget"  # delete everything of the member
    ENTER = "enter"  # a figure (``job_id``, or the latest that fits) into the channel's challenge
    VOTE = "vote"  # for entry ``number`` of challenge ``challenge_id``
    SETTINGS = "settings"  # a server's settings: ``changes``


@dataclass(frozen=True)
class Request:
    """What carrying out an acknowledged interaction needs after the interaction itself is gone."""

    kind: Kind
    requester: Requester
    reply: Reply  # its ``message_id`` is 0 until the deferral made the status message
    spec: FigureSpec | None = None
    args: dict[str, Any] = field(default_factory=dict)  # the kind's own, as JSON values

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
        self,
        engine: JobEngine,
        challenges: ChallengeService,
        downloads: Downloads,
        limits: IntakeLimits,
        connection: Connection,
    ) -> None:
        self.engine = engine
        self.challenges = challenges
        self.downloads = downloads
        self.limits = limits
        self.connection = connection

    async def through(
        self, interaction: Interaction, request: Request, acknowledge: Callable[[], Awaitable[object]]
    ) -> str:
        """Store ``request``, ``acknowledge`` the interaction (a deferral's ``Reply`` is kept with the
        request: it names the status message), then carry the request out; what to tell the member."""
        key = str(interaction.id)
        await self.engine.inbox.receive(PLATFORM, key, request.requester.user_id, request.dumps())
        try:
            reply = await acknowledge()
        except Exception:  # Discord never heard of it (its 3 seconds were over): never carry it out
            await self.engine.inbox.handled(PLATFORM, key)
            raise
        if isinstance(reply, Reply):
            request = replace(request, reply=reply)
            await self.engine.inbox.rewrite(PLATFORM, key, request.dumps())
        return await self.carry_out(key, request)

    async def carry_out(self, key: str, request: Request) -> str:
        """Store the request's effect; what to tell the member privately ("" for a figure, whose status
        message tells). The request is handled once its effect is stored, or once it failed (the failure
        is raised for the caller to answer: it is not tried again later, as the member was told). Only a
        process that dies meanwhile leaves it waiting, for the next start."""
        start = await self.engine.inbox.start(PLATFORM, key)
        if start is not Start.GO:
            raise UserFacingError(BROKEN if start is Start.GAVE_UP else ALREADY_DONE)
        try:
            said = await self._effect(key, request)
        except Exception:  # a stop cuts it short only by cancelling: then it waits for the next start
            await self.engine.inbox.handled(PLATFORM, key)
            raise
        await self.engine.inbox.handled(PLATFORM, key)
        return said

    async def _effect(self, key: str, request: Request) -> str:
        requester, args = request.requester, request.args
        ref, origin = request.reply.to_ref(), origin_of(key)
        match request.kind:
            case Kind.FORGET:
                return forget_summary(await self.engine.forget(requester))
            case Kind.ENTER:
                return plain(entered_text(*await self.challenges.enter(requester, args.get("job_id"))))
            case Kind.VOTE:
                return await self.challenges.vote(requester, args["challenge_id"], args["number"])
            case Kind.SETTINGS:
                changes = {
                    name: tuple(v) if isinstance(v, list) else v for name, v in args["changes"].items()
                }
                current = await self.engine.update_chat_settings(requester, **changes)
                return settings_text(current, self.engine)
            case Kind.REROLL:
                await self.engine.reroll(args["job_id"], requester, request.spec, ref=ref, origin=origin)
                return ""
        limits = replace(self.limits, max_bytes=args["max_bytes"])
        data = await self.downloads.fetch(args["url"], limits)
        photo = await asyncio.to_thread(accept_photo, data, limits)
        del data
        await self.engine.submit(requester, photo, request.spec or FigureSpec(), ref=ref, origin=origin)
        return ""

    async def resume(self) -> None:
        """Carry out every request a stop or crash left waiting, oldest first."""
        waiting = await self.engine.inbox.waiting(PLATFORM)
        if waiting:
            log_event(log, "discord.resumed", requests=len(waiting))
        for item in waiting:
            try:
                request = await self._with_status_message(Request.loads(item.payload))
            except Exception:  # unreadable, or Discord slow to answer: the next start tries it again
                log.exception("a waiting request could not be resumed now")
                continue
            privately = replace(request, reply=replace(request.reply, private=True))
            try:
                said = await self.carry_out(item.key, request)
            except UserFacingError as refusal:  # said privately, like any refusal
                await self._tell(privately, f"⚠️ {refusal.message}")
            except Exception:
                log.exception("a waiting request failed")
                await self._tell(privately, f"⚠️ {BROKEN}")
            else:
                if said:
                    await self._tell(request, said)

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
            except Exception as error:  # the member is not there to tell, or Discord is not
                log.warning("could not say how a resumed request went: %s", type(error).__name__)
