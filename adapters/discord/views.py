"""Buttons and menus whose state lives in their ``custom_id`` and the store (discord.py's ``DynamicItem``),
so they keep working after a restart. ``Buttons`` does what they do, with the services it is built with;
discord.py rebuilds an item from its ``custom_id`` alone, so an item finds the ``Buttons`` through the
interaction's client, typed as the ``ButtonHost`` protocol. Only a figure's owner may use its buttons
(Re-roll, Change theme, Delete, Enter challenge)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any, Protocol

import discord
from discord.ui import Button, DynamicItem, Select

from adapters.discord.pending import Kind, Pending, Request
from adapters.discord.replies import (
    Interaction,
    Reply,
    defer,
    ensure_channel_allowed,
    requester_of,
    say,
    think,
)
from adapters.presses import RecentPresses
from adapters.wording import BROKEN
from bot.challenges import ChallengeService
from bot.engine import JobEngine
from bot.errors import UserFacingError
from bot.jobs import ID_PATTERN, Job
from bot.privacy import ConsentRequired
from bot.themes import catalog

log = logging.getLogger("figurebot.discord")

JOB = rf"(?P<job>{ID_PATTERN})"
UNKNOWN_THEME = "I don't know that theme; pick one from the list."
DELETED_ONLY_STORED = "Deleted the figure I kept; this message shows another one, so it stays."
NOT_YOUR_DATA = "This button deletes someone else's data; use /forget for your own."
ACCEPTED = "Thanks: the privacy notice is accepted. Run /figure again."


async def answer_failure(interaction: Interaction, error: Exception) -> None:
    """A failed handler's one-line ephemeral answer, never a traceback: a refusal in its own words (the
    privacy notice with its Accept button when consent is missing), else an apology, details in the log."""
    try:
        if isinstance(error, ConsentRequired):
            await say(interaction, error.message, view=consent_view())
        elif isinstance(error, UserFacingError):
            await say(interaction, error.message)
        elif isinstance(error, discord.HTTPException):  # Discord itself refused; nothing more to tell
            log.warning("answering an interaction failed: HTTP %s", error.status)
        else:
            log.error("interaction failed", exc_info=error)
            await say(interaction, BROKEN)
    except discord.HTTPException as failure:
        log.warning("answering a failed interaction failed: HTTP %s", failure.status)


async def guarded(interaction: Interaction, action: Awaitable[None]) -> None:
    """Run a button's or menu's ``action``, answering its failure (commands have the tree's ``on_error``)."""
    try:
        await action
    except Exception as error:
        await answer_failure(interaction, error)


def shows_job(message: discord.Message | None, job_id: str) -> bool:
    """Whether ``message`` is the one with the job's figure (its file is named after the job)."""
    return message is not None and any(
        attachment.filename.startswith(f"figure-{job_id}.") for attachment in message.attachments
    )


class Buttons:
    """What the buttons and menus do, on the engine and the challenges."""

    def __init__(self, engine: JobEngine, challenges: ChallengeService, pending: Pending) -> None:
        self.engine = engine
        self.challenges = challenges
        self.pending = pending
        self.presses = RecentPresses()  # to tell double taps on a figure's buttons

    async def _own_job(self, interaction: Interaction, job_id: str) -> Job:
        """The job behind a button, if the person pressing it owns it."""
        return await self.engine.figure_for(requester_of(interaction), job_id)

    async def reroll(self, interaction: Interaction, job_id: str, theme: str | None = None) -> None:
        """Another figure from the same photo (with another theme if given), answered like ``/figure``. The
        same press again moments later is a double tap, not a second request: acknowledged and ignored."""
        job = await self._own_job(interaction, job_id)
        await ensure_channel_allowed(self.engine, interaction)
        message = interaction.message
        action = f"theme:{theme}" if theme else "reroll"
        if self.presses.repeated(message.id if message else 0, action, job.id, interaction.user.id):
            await interaction.response.defer()
            return
        spec = replace(job.spec, theme=theme) if theme else None
        private = bool(message and message.flags.ephemeral)
        reply = Reply.to(interaction, private)
        request = Request(Kind.REROLL, requester_of(interaction), reply, spec, {"job_id": job.id})
        await self.pending.through(interaction, request, lambda: defer(interaction, private))

    async def delete(self, interaction: Interaction, job_id: str) -> None:
        """The stored figure and its job go first, then the message, if it is the one showing that figure."""
        await self._own_job(interaction, job_id)
        await interaction.response.defer()  # before the store's work, which may take a while
        await self.engine.delete_figure(job_id, requester_of(interaction))
        if shows_job(interaction.message, job_id):
            await interaction.delete_original_response()
        else:
            await say(interaction, DELETED_ONLY_STORED)

    async def enter(self, interaction: Interaction, job_id: str) -> None:
        job = await self._own_job(interaction, job_id)
        reply = Reply.to(interaction, private=True)
        request = Request(Kind.ENTER, requester_of(interaction), reply, args={"job_id": job.id})
        await say(interaction, await self.pending.through(interaction, request, lambda: think(interaction)))

    async def accept_privacy(self, interaction: Interaction) -> None:
        await interaction.response.defer()  # before the store's work, which may take a while
        await self.engine.accept_privacy(requester_of(interaction))
        await interaction.edit_original_response(content=ACCEPTED, view=None)

    async def forget(self, interaction: Interaction, user_id: int) -> None:
        if user_id != interaction.user.id:
            raise UserFacingError(NOT_YOUR_DATA)
        request = Request(Kind.FORGET, requester_of(interaction), Reply.to(interaction, private=True))
        # Once confirmed, a forget completes, crash or not; deleting everything may take a while.
        said = await self.pending.through(interaction, request, interaction.response.defer)
        await interaction.edit_original_response(content=said, view=None)

    async def vote(self, interaction: Interaction, challenge_id: str, number: int) -> None:
        """A vote for a challenge's entry; the core checks the challenge, the channel and the voter."""
        args = {"challenge_id": challenge_id, "number": number}
        request = Request(
            Kind.VOTE, requester_of(interaction), Reply.to(interaction, private=True), args=args
        )
        await say(interaction, await self.pending.through(interaction, request, lambda: think(interaction)))


class ButtonHost(Protocol):
    """The client an item's interaction arrives on, carrying the ``Buttons``."""

    buttons: Buttons


def buttons_of(interaction: Interaction) -> Buttons:
    host: ButtonHost = interaction.client
    return host.buttons


class ThemeSelect(DynamicItem[Select], template=rf"fig:theme:{JOB}"):
    def __init__(self, job_id: str) -> None:
        options = [discord.SelectOption(label=theme.name, value=key) for key, theme in catalog().items()][:25]
        super().__init__(
            Select(custom_id=f"fig:theme:{job_id}", placeholder="Change theme…", options=options)
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: Interaction, item: Any, match: re.Match[str]) -> ThemeSelect:
        return cls(match["job"])

    async def callback(self, interaction: Interaction) -> None:
        values = self.item.values
        theme = values[0] if len(values) == 1 and values[0] in catalog() else None
        if theme is None:
            await say(interaction, UNKNOWN_THEME)
            return
        await guarded(interaction, buttons_of(interaction).reroll(interaction, self.job_id, theme))


JOB_BUTTONS = {  # action in custom_id → label, emoji, style
    "reroll": ("Re-roll", "🎲", discord.ButtonStyle.primary),
    "delete": ("Delete", "🗑️", discord.ButtonStyle.secondary),
    "enter": ("Enter challenge", "🏆", discord.ButtonStyle.success),
}


class JobButton(DynamicItem[Button], template=rf"fig:(?P<action>reroll|delete|enter):{JOB}"):
    """Re-roll, Delete or Enter challenge under a figure: the action and the job are in ``custom_id``."""

    def __init__(self, action: str, job_id: str) -> None:
        label, emoji, style = JOB_BUTTONS[action]
        super().__init__(Button(label=label, emoji=emoji, style=style, custom_id=f"fig:{action}:{job_id}"))
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: Interaction, item: Any, match: re.Match[str]) -> JobButton:
        return cls(match["action"], match["job"])

    async def callback(self, interaction: Interaction) -> None:
        buttons = buttons_of(interaction)
        actions = {"reroll": buttons.reroll, "delete": buttons.delete, "enter": buttons.enter}
        await guarded(interaction, actions[self.action](interaction, self.job_id))


class AcceptPrivacyButton(DynamicItem[Button], template=r"fig:accept"):
    def __init__(self) -> None:
        super().__init__(Button(label="Accept", style=discord.ButtonStyle.success, custom_id="fig:accept"))

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: Any, match: re.Match[str]
    ) -> AcceptPrivacyButton:
        return cls()

    async def callback(self, interaction: Interaction) -> None:
        await guarded(interaction, buttons_of(interaction).accept_privacy(interaction))


class ConfirmForgetButton(DynamicItem[Button], template=r"fig:forget:(?P<user>[0-9]{1,20})"):
    def __init__(self, user_id: int) -> None:
        button = Button(
            label="Delete everything", style=discord.ButtonStyle.danger, custom_id=f"fig:forget:{user_id}"
        )
        super().__init__(button)
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: Any, match: re.Match[str]
    ) -> ConfirmForgetButton:
        return cls(int(match["user"]))

    async def callback(self, interaction: Interaction) -> None:
        await guarded(interaction, buttons_of(interaction).forget(interaction, self.user_id))


DYNAMIC_ITEMS = (
    JobButton,
    ThemeSelect,
    AcceptPrivacyButton,
    ConfirmForgetButton,
)


def _view(*items: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


def result_view(job_id: str, enterable: bool = False) -> discord.ui.View:
    """The buttons under a finished figure; Enter challenge too when ``enterable``."""
    actions = ["reroll", "delete", "enter"] if enterable else ["reroll", "delete"]
    buttons = [JobButton(action, job_id) for action in actions]
    return _view(*buttons, ThemeSelect(job_id))


def consent_view() -> discord.ui.View:
    return _view(AcceptPrivacyButton())


def forget_view(user_id: int) -> discord.ui.View:
    return _view(ConfirmForgetButton(user_id))
