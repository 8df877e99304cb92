"""``/challenge``: theme challenges in a channel. Members see the state, enter and withdraw figures and
read the leaderboard (answered privately); admins (Manage Server, or the role set in ``/figure-settings``)
start, move on and cancel a challenge in front of the channel."""

from __future__ import annotations

import discord
from discord import app_commands

from adapters.challenge_wording import (
    cancelled_text,
    challenge_status_text,
    leaderboard_text,
    moved_on_text,
    started_text,
    withdrawn_text,
)
from adapters.discord.commands import theme_choices
from adapters.discord.markup import MARKDOWN
from adapters.discord.pending import Kind, Pending, Request
from adapters.discord.replies import (
    Interaction,
    Reply,
    ensure_channel_allowed,
    requester_of,
    say,
    say_publicly,
    think,
)
from bot.challenges import ChallengeService
from bot.engine import JobEngine

HOW_TO_MAKE = "Make a figure here with /figure"


def holds_role(user: discord.User | discord.Member, role_id: int) -> bool:
    """Whether ``user`` holds the role, read from the role ids the interaction carries: ``Member.roles``
    would list only the roles of a server in discord.py's cache (none before GUILD_CREATE), and the ids
    have no public accessor, so this reads discord.py's ``Member._roles``."""
    return isinstance(user, discord.Member) and user._roles.has(role_id)


class ChallengeCommands(
    app_commands.Group, name="challenge", description="Theme challenges in this channel."
):
    """``/challenge`` and its subcommands, on the challenges (and the engine, for the server's settings)."""

    def __init__(self, engine: JobEngine, challenges: ChallengeService, pending: Pending) -> None:
        super().__init__(guild_only=True, allowed_contexts=app_commands.AppCommandContext(guild=True))
        self.engine = engine
        self.challenges = challenges
        self.pending = pending

    async def is_admin(self, interaction: Interaction) -> bool:
        """Whether the member may start, move on or cancel challenges: Manage Server, or the challenge role
        the server's admins chose."""
        if interaction.permissions.manage_guild:
            return True
        role = (await self.engine.chat_settings(requester_of(interaction))).admin_role
        return role is not None and holds_role(interaction.user, int(role))

    @app_commands.command(name="start", description="Start a theme challenge in this channel (admins).")
    @app_commands.describe(
        theme="The theme figures must have: one from the list, or your own words",
        duration="How long entries are taken: 90m, 2h, 3d…",
        voting="How long voting runs (as long as the entries, at most a day, if left out)",
        entries_per_member="Figures each member may enter",
        votes_per_voter="Votes each member may give",
    )
    @app_commands.autocomplete(theme=theme_choices)
    async def start(
        self,
        interaction: Interaction,
        theme: app_commands.Range[str, 1, 100],
        duration: app_commands.Range[str, 1, 20],
        voting: app_commands.Range[str, 1, 20] | None = None,
        entries_per_member: app_commands.Range[int, 1, 10] = 1,
        votes_per_voter: app_commands.Range[int, 1, 10] = 1,
    ) -> None:
        await say_publicly(
            interaction,
            self._begin(interaction, theme, duration, voting, entries_per_member, votes_per_voter),
        )

    async def _begin(
        self,
        interaction: Interaction,
        theme: str,
        duration: str,
        voting: str | None,
        entries: int,
        votes: int,
    ) -> str:
        await ensure_channel_allowed(self.engine, interaction)  # entries are figures made in this channel
        started = await self.challenges.begin(
            requester_of(interaction),
            theme,
            duration,
            voting,
            is_admin=await self.is_admin(interaction),
            entries_per_user=entries,
            votes_per_voter=votes,
        )
        return started_text(MARKDOWN, started, HOW_TO_MAKE)

    @app_commands.command(name="status", description="The challenge in this channel and your entries.")
    async def status(self, interaction: Interaction) -> None:
        current, entries, mine = await self.challenges.status(requester_of(interaction))
        await say(interaction, challenge_status_text(MARKDOWN, current, entries, mine))

    @app_commands.command(
        name="enter", description="Enter your latest figure made in this channel since the challenge began."
    )
    async def enter(self, interaction: Interaction) -> None:
        request = Request(Kind.ENTER, requester_of(interaction), Reply.to(interaction, private=True))
        await say(interaction, await self.pending.through(interaction, request, lambda: think(interaction)))

    @app_commands.command(name="withdraw", description="Take back your latest entry before voting starts.")
    async def withdraw(self, interaction: Interaction) -> None:
        await think(interaction)
        number = await self.challenges.withdraw(requester_of(interaction))
        await say(interaction, withdrawn_text(number))

    @app_commands.command(
        name="advance", description="Move the challenge on now: to voting, or to the results (admins)."
    )
    async def advance(self, interaction: Interaction) -> None:
        await say_publicly(interaction, self._move_on(interaction))

    async def _move_on(self, interaction: Interaction) -> str:
        is_admin = await self.is_admin(interaction)
        moved = await self.challenges.advance(requester_of(interaction), is_admin=is_admin)
        return moved_on_text(MARKDOWN, moved, str(interaction.user.id))

    @app_commands.command(name="cancel", description="Call off the challenge in this channel (admins).")
    async def cancel(self, interaction: Interaction) -> None:
        await say_publicly(interaction, self._call_off(interaction))

    async def _call_off(self, interaction: Interaction) -> str:
        is_admin = await self.is_admin(interaction)
        cancelled = await self.challenges.cancel(requester_of(interaction), is_admin=is_admin)
        return cancelled_text(MARKDOWN, cancelled, str(interaction.user.id))

    @app_commands.command(name="leaderboard", description="Points from the challenges of this channel.")
    async def leaderboard(self, interaction: Interaction) -> None:
        standings = await self.challenges.leaderboard(requester_of(interaction))
        await say(interaction, leaderboard_text(MARKDOWN, standings, "channel"))
