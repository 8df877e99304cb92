"""The figure slash commands and the "Make my figure" message menu, as ``FigureCommands`` built with the
services they work on. Each answers at once (a deferral or a one-line ephemeral message) and only then
writes to the store; anything slow goes through the engine. A refusal they raise is answered by the
command tree's ``on_error``."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Literal

import discord
from discord import app_commands

from adapters.discord.pending import Kind, Pending, Request
from adapters.discord.replies import (
    Interaction,
    Reply,
    defer,
    ensure_channel_allowed,
    plain,
    quoted,
    requester_of,
    say,
    settings_text,
    think,
)
from adapters.discord.views import consent_view, forget_view
from adapters.wording import (
    describe,
    privacy_text,
    quota_text,
    themes_text,
    unusable_upload,
)
from bot.challenge_types import Phase
from bot.challenges import ChallengeService
from bot.chat_settings import parse_daily_quota
from bot.config import parse_duration
from bot.engine import JobEngine
from bot.errors import UserFacingError
from bot.intake import IntakeLimits, PhotoRejected, check_file_size
from bot.spec import FigureSpec, make_spec
from bot.themes import catalog

DESCRIPTIONS = {  # slash command → what Discord shows under its name
    "figure": "Turn a photo of you into an action figure in its box.",
    "themes": "The themes figures come in.",
    "privacy": "Where your photo goes and how long it is kept.",
    "forget": "Delete everything figurebot keeps about you.",
    "cancel": "Cancel your latest figure in the works.",
    "quota": "Your figures today and the limits.",
    "figure-settings": "Where and how figurebot works on this server.",
}
MAX_CHOICES = 25  # Discord shows at most this many autocomplete choices
MAX_CHANNELS = 25
_CHANNEL = re.compile(r"<#(\d{1,20})>|(\d{1,20})")
_ROLE = re.compile(r"<@&(\d{1,20})>|(\d{1,20})")
_NO_ROLE = {"none", "no", "clear"}
_EVERYWHERE = {"all", "any", "everywhere"}
_KINDS = {"video": "video", "audio": "sound file", "text": "text file"}
FORGET_QUESTION = (
    "This deletes every photo, figure, job and setting figurebot keeps about you (messages already posted "
    "in channels stay). Are you sure?"
)
NOT_YOUR_MESSAGE = "Make my figure works on your own messages: use it on a photo you posted."
NO_PHOTO = "That message has no photo attached."
NOTHING_TO_CANCEL = "You have no figure in the works to cancel."
MANAGE_SERVER_ONLY = "Only members with the Manage Server permission can change these settings."


def check_attachment(attachment: discord.Attachment, limits: IntakeLimits) -> None:
    """Refuse what is not an image, or is too big, before downloading anything."""
    kind = (attachment.content_type or "").split(";")[0].strip().lower()
    if not kind.startswith("image/"):
        raise PhotoRejected(unusable_upload(_KINDS.get(kind.split("/")[0], "file of that kind")))
    check_file_size(attachment.size, limits)


async def theme_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Catalog themes matching what was typed; the typed words themselves first, as free text is fine."""
    typed = " ".join(current.split())[:100]
    wanted = typed.casefold()
    themes = [theme for theme in catalog().values() if wanted in theme.name.casefold() or wanted in theme.key]
    choices = [app_commands.Choice(name=theme.name, value=theme.key) for theme in themes]
    if typed and not any(choice.name.casefold() == wanted for choice in choices):
        choices.insert(0, app_commands.Choice(name=typed, value=typed))
    return choices[:MAX_CHOICES]


def parse_channels(text: str) -> tuple[str, ...]:
    """Channel ids from mentions (``<#123>``) or ids; "all" for everywhere."""
    words = text.replace(",", " ").split()
    if not words or (len(words) == 1 and words[0].casefold() in _EVERYWHERE):
        return ()
    channels: list[str] = []
    for word in words:
        match = _CHANNEL.fullmatch(word)
        if match is None:
            raise UserFacingError(
                f"I can't read '{quoted(word)}' as a channel: mention channels like #figures, or write all."
            )
        channel = match[1] or match[2]
        if channel not in channels:
            channels.append(channel)
    if len(channels) > MAX_CHANNELS:
        raise UserFacingError(f"That is {len(channels)} channels; the limit is {MAX_CHANNELS}.")
    return tuple(channels)


def parse_role(text: str) -> str | None:
    """A role id from a mention (``<@&123>``) or an id; ``None`` for "none"."""
    text = text.strip()
    if text.casefold() in _NO_ROLE:
        return None
    match = _ROLE.fullmatch(text)
    if match is None:
        raise UserFacingError(
            f"I can't read '{quoted(text)}' as a role: mention one like @Judges, or write none."
        )
    return match[1] or match[2]


def parse_quota(text: str) -> int | None:
    """Figures per member per day, or ``None`` for "default" (the core's rule, ``parse_daily_quota``)."""
    return parse_daily_quota(text)


def parse_retention(text: str) -> float | None:
    """Seconds a photo is kept after its last figure, or ``None`` for "default"."""
    if text.strip().casefold() == "default":
        return None
    try:
        return parse_duration(text[:40])
    except ValueError:
        raise UserFacingError(
            f"I can't read '{quoted(text)}' as a time: write e.g. 0, 30m, 1h or 2d, or default."
        ) from None


class FigureCommands:
    """``/figure``, "Make my figure", ``/themes``, ``/privacy``, ``/forget``, ``/cancel``, ``/quota`` and
    ``/figure-settings``. They are top-level commands, so ``commands()`` builds them from bound methods
    (an ``app_commands.Group`` would put them under one name)."""

    def __init__(
        self, engine: JobEngine, challenges: ChallengeService, pending: Pending, limits: IntakeLimits
    ) -> None:
        self.engine = engine
        self.challenges = challenges
        self.pending = pending
        self.limits = limits

    def commands(self) -> list[app_commands.Command[Any, ..., None] | app_commands.ContextMenu]:
        """For the tree: a slash command for each of ``DESCRIPTIONS``, run by the method of its name, and
        the "Make my figure" message menu."""
        slash = [
            app_commands.Command(name=name, description=text, callback=getattr(self, name.replace("-", "_")))
            for name, text in DESCRIPTIONS.items()
        ]
        return [*slash, app_commands.ContextMenu(name="Make my figure", callback=self.make_my_figure)]

    async def theme_for(self, interaction: Interaction, theme: str | None) -> tuple[str | None, str]:
        """The theme of a figure, and a note for its status: without a theme asked for, the theme of the
        channel's challenge while it takes entries (the note says so)."""
        if theme is not None:
            return theme, ""
        challenge = await self.challenges.current(requester_of(interaction))
        if challenge is None or challenge.phase is not Phase.SUBMISSIONS:
            return None, ""
        return challenge.theme, f"🏆 In the theme of this channel's {plain(challenge.theme_name)} challenge."

    async def _make_figure(
        self,
        interaction: Interaction,
        attachment: discord.Attachment,
        spec: FigureSpec,
        private: bool,
        note: str,
    ) -> None:
        """Check the attachment, store the request, acknowledge, download and clean the photo, and queue
        the figure (see ``pending``: a crash anywhere in between loses nothing)."""
        limits = replace(self.limits, max_bytes=min(self.limits.max_bytes, interaction.filesize_limit))
        check_attachment(attachment, limits)
        await ensure_channel_allowed(self.engine, interaction)
        args = {"url": attachment.url, "max_bytes": limits.max_bytes}
        request = Request(
            Kind.FIGURE, requester_of(interaction), Reply.to(interaction, private, note), spec, args
        )
        await self.pending.through(interaction, request, lambda: defer(interaction, private, note))

    @app_commands.describe(
        photo="A photo of you: JPEG, PNG, WebP, HEIC…",
        name="The name on the box (your display name if left out)",
        theme="A theme from the list, or your own words",
        costume="What the figure wears",
        accessories="Up to 4, separated by commas",
        tagline="A line for the box",
        style="The packaging",
        private="Only you see the figure",
    )
    @app_commands.autocomplete(theme=theme_choices)
    async def figure(
        self,
        interaction: Interaction,
        photo: discord.Attachment,
        name: str | None = None,
        theme: str | None = None,
        costume: str | None = None,
        accessories: str | None = None,
        tagline: str | None = None,
        style: Literal["blister", "window"] | None = None,
        private: bool = False,
    ) -> None:
        chosen, note = await self.theme_for(interaction, theme)
        spec = make_spec(
            name=name or interaction.user.display_name,
            theme=chosen,
            costume=costume,
            accessories=accessories,
            tagline=tagline,
            style=style,
        )
        await self._make_figure(interaction, photo, spec, private, note)

    async def make_my_figure(self, interaction: Interaction, message: discord.Message) -> None:
        if message.author.id != interaction.user.id:
            raise UserFacingError(NOT_YOUR_MESSAGE)
        images = [item for item in message.attachments if (item.content_type or "").startswith("image/")]
        if not images:
            raise UserFacingError(NO_PHOTO)
        theme, note = await self.theme_for(interaction, None)
        spec = make_spec(name=interaction.user.display_name, theme=theme)
        await self._make_figure(interaction, images[0], spec, False, note)

    async def themes(self, interaction: Interaction) -> None:
        await say(interaction, themes_text())

    async def privacy(self, interaction: Interaction) -> None:
        notice, needs_consent = await privacy_text(self.engine, requester_of(interaction))
        if needs_consent:
            await say(interaction, notice, view=consent_view())
        else:
            await say(interaction, notice)

    async def forget(self, interaction: Interaction) -> None:
        await say(interaction, FORGET_QUESTION, view=forget_view(interaction.user.id))

    async def cancel(self, interaction: Interaction) -> None:
        await think(interaction)  # cancelling edits the job's status message, which may be slow
        job = await self.engine.cancel_latest(requester_of(interaction))
        if job is None:
            raise UserFacingError(NOTHING_TO_CANCEL)
        await say(interaction, f"Cancelled: {plain(describe(job.spec))}.")

    async def quota(self, interaction: Interaction) -> None:
        await say(interaction, quota_text(await self.engine.quota(requester_of(interaction))))

    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        channels="Channels where the bot makes figures: mention them (#figures #art), or write all",
        local_only="Keep photos on this bot's own machines: no outside image service paints",
        daily_quota="Figures per member per day, or default",
        photo_retention="How long photos are kept after their last figure (0, 30m, 1h…), or default",
        challenge_role="A role whose members may run challenges too: mention it (@Judges), or write none",
    )
    async def figure_settings(
        self,
        interaction: Interaction,
        channels: str | None = None,
        local_only: bool | None = None,
        daily_quota: str | None = None,
        photo_retention: str | None = None,
        challenge_role: str | None = None,
    ) -> None:
        if not interaction.permissions.manage_guild:
            raise UserFacingError(MANAGE_SERVER_ONLY)
        changes: dict[str, object] = {}
        if channels is not None:
            changes["channels"] = parse_channels(channels)
        if local_only is not None:
            changes["local_only"] = local_only
        if daily_quota is not None:
            changes["daily_quota_per_user"] = parse_quota(daily_quota)
        if photo_retention is not None:
            changes["photo_retention"] = parse_retention(photo_retention)
        if challenge_role is not None:
            changes["admin_role"] = parse_role(challenge_role)
        requester = requester_of(interaction)
        if not changes:
            await think(interaction)  # before the store's work, which may take a while
            current = await self.engine.chat_settings(requester)
            await say(interaction, settings_text(current, self.engine))
            return
        request = Request(Kind.SETTINGS, requester, Reply.to(interaction, True), args={"changes": changes})
        await say(interaction, await self.pending.through(interaction, request, lambda: think(interaction)))
