"""``/challenge``: theme challenges in a channel. Members see the state, enter and withdraw figures and
read the leaderboard (answered privately); admins (Manage Server, or the role set in ``/figure-settings``)
start, move on and cancel a challenge in front of the channel."""

from __future__ import annotations

import discord
from discord import app_commands

from adapters.challenge_wording import each, entered_text
from adapters.discord.commands import theme_choices
from adapters.discord.replies import (
    Interaction,
    ensure_channel_allowed,
    plain,
    requester_of,
    say,
    say_publicly,
    think,
)
from bot.challenges import POINTS, Challenge, ChallengeService, Phase, Standing
from bot.durations import duration_words
from bot.engine import JobEngine

NO_POINTS = "No one has points here yet: places in finished challenges earn them."


def when(moment: float | None) -> str:
    """A deadline as Discord shows it to each reader: their local date and time, and how far off it is."""
    if moment is None:
        return "soon"
    return f"<t:{int(moment)}:f> (<t:{int(moment)}:R>)"


def holds_role(user: discord.User | discord.Member, role_id: int) -> bool:
    """Whether ``user`` holds the role, read from the role ids the interaction carries: ``Member.roles``
    would list only the roles of a server in discord.py's cache (none before GUILD_CREATE), and the ids
    have no public accessor, so this reads discord.py's ``Member._roles``."""
    return isinstance(user, discord.Member) and user._roles.has(role_id)


def started_text(started: Challenge) -> str:
    theme = plain(started.theme_name)
    return (
        f"🏆 New challenge: **{theme}**! Make a figure here with /figure (it takes the theme by itself) and "
        f"enter it with its Enter challenge button or /challenge enter until {when(started.deadline)}. "
        f"Then everyone votes for {duration_words(started.vote_for)}. "
        f"{each(started.entries_per_user, 'entry')} per member, {each(started.votes_per_voter, 'vote')} "
        "per voter."
    )


def moved_on_text(moved: Challenge, admin: str) -> str:
    theme = plain(moved.theme_name)
    if moved.phase is Phase.VOTING:
        return f"⏩ {admin} opened the voting in the **{theme}** challenge; it closes {when(moved.deadline)}."
    return f"⏩ {admin} closed the **{theme}** challenge."


def status_text(current: Challenge, entries: int, mine: int) -> str:
    theme = plain(current.theme_name)
    if current.phase is Phase.SUBMISSIONS:
        return (
            f"🏆 **{theme}** challenge: entries close {when(current.deadline)}. {each(entries, 'entry')} "
            f"so far, {mine} of them yours (up to {current.entries_per_user} each)."
        )
    return (
        f"🗳️ **{theme}** challenge: voting closes {when(current.deadline)}. {each(entries, 'entry')}; "
        f"vote with the buttons under them ({each(current.votes_per_voter, 'vote')} each)."
    )


def leaderboard_text(standings: list[Standing]) -> str:
    if not standings:
        return NO_POINTS
    legend = ", ".join(f"{points} for place {place}" for place, points in POINTS.items())
    lines = [f"🏆 Leaderboard of this channel's challenges (points: {legend}):"]
    for rank, standing in enumerate(standings, start=1):
        score = f"{each(standing.points, 'point')}, {each(standing.wins, 'win')}"
        lines.append(f"{rank}. <@{standing.user_id}>: {score}")
    return "\n".join(lines)


class ChallengeCommands(
    app_commands.Group, name="challenge", description="Theme challenges in this channel."
):
    """``/challenge`` and its subcommands, on the challenges (and the engine, for the server's settings)."""

    def __init__(self, engine: JobEngine, challenges: ChallengeService) -> None:
        super().__init__(guild_only=True, allowed_contexts=app_commands.AppCommandContext(guild=True))
        self.engine = engine
        self.challenges = challenges

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
        return started_text(started)

    @app_commands.command(name="status", description="The challenge in this channel and your entries.")
    async def status(self, interaction: Interaction) -> None:
        current, entries, mine = await self.challenges.status(requester_of(interaction))
        await say(interaction, status_text(current, entries, mine))

    @app_commands.command(
        name="enter", description="Enter your latest figure in the theme, made in this channel."
    )
    async def enter(self, interaction: Interaction) -> None:
        await think(interaction)
        entered, number = await self.challenges.enter(requester_of(interaction))
        await say(interaction, plain(entered_text(entered, number)))

    @app_commands.command(name="withdraw", description="Take back your latest entry before voting starts.")
    async def withdraw(self, interaction: Interaction) -> None:
        await think(interaction)
        number = await self.challenges.withdraw(requester_of(interaction))
        await say(interaction, f"Withdrawn: entry {number} is out of the challenge.")

    @app_commands.command(
        name="advance", description="Move the challenge on now: to voting, or to the results (admins)."
    )
    async def advance(self, interaction: Interaction) -> None:
        await say_publicly(interaction, self._move_on(interaction))

    async def _move_on(self, interaction: Interaction) -> str:
        is_admin = await self.is_admin(interaction)
        moved = await self.challenges.advance(requester_of(interaction), is_admin=is_admin)
        return moved_on_text(moved, interaction.user.mention)

    @app_commands.command(name="cancel", description="Call off the challenge in this channel (admins).")
    async def cancel(self, interaction: Interaction) -> None:
        await say_publicly(interaction, self._call_off(interaction))

    async def _call_off(self, interaction: Interaction) -> str:
        is_admin = await self.is_admin(interaction)
        cancelled = await self.challenges.cancel(requester_of(interaction), is_admin=is_admin)
        return f"🚫 {interaction.user.mention} cancelled the **{plain(cancelled.theme_name)}** challenge."

    @app_commands.command(name="leaderboard", description="Points from the challenges of this channel.")
    async def leaderboard(self, interaction: Interaction) -> None:
        await say(interaction, leaderboard_text(await self.challenges.leaderboard(requester_of(interaction))))
