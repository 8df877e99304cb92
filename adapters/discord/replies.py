"""Answering an interaction: who asked, one-line ephemeral answers, and the deferral a job's messages
hang on (kept with the job as its ``ref``, so they survive a restart)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import discord
from discord import InteractionResponseType as ResponseType

from adapters.wording import chat_settings_lines
from bot.chats import ChatSettings
from bot.engine import JobEngine
from bot.errors import UserFacingError
from bot.jobs import Requester

Interaction = discord.Interaction[Any]  # whichever client: handlers get their services from their class

PLATFORM = "discord"
SHOWN = 24  # longest piece of user text quoted back
TOKEN_LIFETIME = 15 * 60.0  # Discord accepts an interaction's token this long
TOKEN_MARGIN = 30.0  # and we stop relying on it this much earlier
MAX_CONTENT = 2000  # characters in a message's text


class SettingsSource(Protocol):
    """Where a chat's settings are read (the engine)."""

    async def chat_settings(self, requester: Requester) -> ChatSettings: ...


@dataclass(frozen=True)
class Reply:
    """Where a job's messages go: the interaction that asked for it (its token works for 15 minutes),
    the status message its deferral made, and the channel for anything later."""

    application_id: int
    token: str
    channel_id: int
    message_id: int
    created_at: float  # when the interaction was made, Unix seconds
    private: bool
    note: str = ""  # a line shown under every status of the job

    @classmethod
    def to(cls, interaction: Interaction, private: bool, note: str = "", message_id: int = 0) -> Reply:
        """The reply to ``interaction``; ``message_id`` 0 until its status message exists."""
        return cls(
            application_id=interaction.application_id,
            token=interaction.token,
            channel_id=interaction.channel_id or 0,
            message_id=message_id,
            created_at=discord.utils.snowflake_time(interaction.id).timestamp(),
            private=private,
            note=note,
        )

    def to_ref(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_ref(cls, ref: str | None) -> Reply | None:
        """The reply a job's ``ref`` holds; ``None`` when it holds none (or something unreadable)."""
        if not ref:
            return None
        try:
            return cls(**json.loads(ref))
        except (TypeError, ValueError):
            return None

    def fresh(self) -> bool:
        """Whether the interaction's token still works."""
        return time.time() - self.created_at < TOKEN_LIFETIME - TOKEN_MARGIN


def plain(text: str) -> str:
    """Text that may hold user input (names, themes) as Discord should show it: no markdown, no mentions."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def quoted(text: str) -> str:
    """A piece of user input, short and inert enough to quote back in a message."""
    text = "".join(char for char in text if char.isprintable())
    return plain(text if len(text) <= SHOWN else text[: SHOWN - 1] + "…")


def fit(text: str, limit: int = MAX_CONTENT) -> str:
    """``text`` within Discord's length limit for a message, cut with "…" when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def requester_of(interaction: Interaction) -> Requester:
    guild = str(interaction.guild_id) if interaction.guild_id else None
    return Requester(PLATFORM, str(interaction.user.id), str(interaction.channel_id), guild)


async def say(interaction: Interaction, text: str, **options: Any) -> None:
    """An ephemeral answer; once the interaction is answered, its response edited, or, when that response
    is the message a button sits on (a button that updates its message), a private follow-up."""
    text = fit(text)
    response = interaction.response
    if not response.is_done():
        await response.send_message(text, ephemeral=True, **options)
    elif response.type in (ResponseType.deferred_message_update, ResponseType.message_update):
        await interaction.followup.send(text, ephemeral=True, **options)
    else:
        await interaction.edit_original_response(content=text, **options)


async def think(interaction: Interaction) -> None:
    """Acknowledge at once with a private "thinking…" (``say`` turns it into the answer): for handlers
    that write to the store, which may take longer than the 3 seconds Discord waits for an answer."""
    await interaction.response.defer(ephemeral=True, thinking=True)


async def defer(interaction: Interaction, private: bool, note: str = "") -> Reply:
    """Acknowledge at once with an ephemeral "thinking…" message that will show the job's status."""
    callback = await interaction.response.defer(ephemeral=True, thinking=True)
    message_id = callback.message_id if callback is not None else None
    if message_id is None:
        message_id = (await interaction.original_response()).id
    return Reply.to(interaction, private, note, message_id)


async def say_publicly(interaction: Interaction, work: Awaitable[str]) -> None:
    """Post the text ``work`` returns for the whole channel. Until then an ephemeral "thinking…" stands
    in (``work`` may take longer than Discord waits), so a refusal raised by ``work`` stays private.

    A follow-up sent while "thinking…" shows would take its place, private too; so the placeholder gets
    the text first (what the member sees if the rest fails), then the public follow-up replaces it."""
    await think(interaction)
    text = fit(await work)
    await interaction.edit_original_response(content=text)
    await interaction.followup.send(text, allowed_mentions=discord.AllowedMentions.none(), wait=True)
    await interaction.delete_original_response()


async def ensure_channel_allowed(engine: SettingsSource, interaction: Interaction) -> None:
    """Refuse a figure in a channel the server's admins did not open to the bot."""
    settings = await engine.chat_settings(requester_of(interaction))
    parent = getattr(interaction.channel, "parent_id", None)  # a thread is open where its channel is
    here = {str(interaction.channel_id), str(parent)} if parent else {str(interaction.channel_id)}
    if settings.channels and not here & set(settings.channels):
        places = ", ".join(f"<#{channel}>" for channel in settings.channels)
        raise UserFacingError(f"I make figures only in {places} on this server.")


def settings_text(chat: ChatSettings, engine: JobEngine) -> str:
    """The server's settings, one a line."""
    channels = ", ".join(f"<#{channel}>" for channel in chat.channels) or "everywhere"
    judges = "members with Manage Server" + (
        f" and the role <@&{chat.admin_role}>" if chat.admin_role else ""
    )
    return "\n".join(
        [
            "figurebot on this server:",
            f"• makes figures in: {channels}",
            *chat_settings_lines(chat, engine),
            f"• who runs challenges: {judges}",
        ]
    )
