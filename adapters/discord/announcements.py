"""A challenge's phase changes, posted in its channel with the bot's REST client: the entries with a vote
button each when voting opens, the results with the shelf picture at close, or the cancellation.

The core marks an announcement done once the announcer returns, so a failed post raises and the core tries
again (a post Discord refuses for good, 400, 403 or 404, is given up and logged instead). Posts that went out
before a failure are not repeated, also after a restart: before posting the ballots, the channel's recent
messages are read for the vote buttons already there."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from dataclasses import dataclass
from typing import Any

import discord
from discord.ui import Button, DynamicItem

from adapters.challenge_wording import called_off_text, more_entries_text, results_text, voting_text
from adapters.discord.connection import Connection
from adapters.discord.delivery import NotConnected
from adapters.discord.markup import MARKDOWN
from adapters.discord.replies import Interaction, fit
from adapters.discord.views import buttons_of, guarded
from bot.challenge_types import Challenge, ChallengeEvent, ChallengeEventKind, Entry
from bot.jobs import ID_PATTERN
from bot.output import small_jpeg_of
from bot.themes import find_theme

log = logging.getLogger("figurebot.discord")

ENTRIES_PER_POST = 10  # Discord's limit of embeds, and of files, in one message
ENTRY_SIDE = 768  # entries are shown as JPEGs this size, so ten fit in one upload
HISTORY = 100  # recent channel messages read for the ballots already posted (one request)
GIVEN_UP = (400, 403, 404)  # refused for good: a bad message, a channel closed to the bot or gone
CHALLENGE = rf"(?P<challenge>{ID_PATTERN})"


class VoteButton(DynamicItem[Button], template=rf"ch:vote:{CHALLENGE}:(?P<number>[0-9]{{1,4}})"):
    """A vote for one entry; the core checks the challenge, the channel and the voter."""

    def __init__(self, challenge_id: str, number: int) -> None:
        button = Button(
            label=f"Entry {number}",
            emoji="🗳️",
            style=discord.ButtonStyle.primary,
            custom_id=f"ch:vote:{challenge_id}:{number}",
        )
        super().__init__(button)
        self.challenge_id = challenge_id
        self.number = number

    @classmethod
    async def from_custom_id(cls, interaction: Interaction, item: Any, match: re.Match[str]) -> VoteButton:
        return cls(match["challenge"], int(match["number"]))

    async def callback(self, interaction: Interaction) -> None:
        await guarded(interaction, buttons_of(interaction).vote(interaction, self.challenge_id, self.number))


@dataclass(frozen=True)
class Post:
    """One channel message of an announcement."""

    content: str
    pictures: tuple[tuple[str, bytes], ...] = ()  # file name, data
    embeds: tuple[discord.Embed, ...] = ()
    view: discord.ui.View | None = None
    marker: str | None = None  # the custom_id of a button only this post has, to find it once posted

    def options(self) -> dict[str, Any]:
        """The arguments of ``send`` (fresh files each time: sending consumes them)."""
        options: dict[str, Any] = {
            "content": fit(self.content),
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if self.pictures:
            options["files"] = [discord.File(io.BytesIO(data), filename=name) for name, data in self.pictures]
        if self.embeds:
            options["embeds"] = list(self.embeds)
        if self.view is not None:
            options["view"] = self.view
        return options


def vote_view(challenge: Challenge, entries: tuple[Entry, ...]) -> discord.ui.View:
    """A vote button for each of ``entries`` (ten at most: two rows of five)."""
    view = discord.ui.View(timeout=None)
    for entry in entries:
        view.add_item(VoteButton(challenge.id, entry.number))
    return view


async def ballots(event: ChallengeEvent) -> list[Post]:
    """The entries, without their makers' names, ten to a message with a vote button each."""
    challenge = event.challenge
    colour = discord.Colour.from_rgb(*find_theme(challenge.theme).palette.accent)
    posts = []
    for start in range(0, len(event.entries), ENTRIES_PER_POST):
        chunk = event.entries[start : start + ENTRIES_PER_POST]
        pictures, embeds = [], []
        for entry in chunk:
            embed = discord.Embed(title=f"Entry {entry.number}", colour=colour)
            picture = await asyncio.to_thread(small_jpeg_of, event.images.get(entry.id) or b"", ENTRY_SIDE)
            if picture is None:
                embed.description = "Its picture is no longer available."
            else:
                name = f"entry-{entry.number}.jpg"
                pictures.append((name, picture))
                embed.set_image(url=f"attachment://{name}")
            embeds.append(embed)
        content = voting_text(MARKDOWN, challenge) if start == 0 else more_entries_text(MARKDOWN, challenge)
        view = vote_view(challenge, chunk)
        marker = VoteButton(challenge.id, chunk[0].number).custom_id
        posts.append(Post(content, tuple(pictures), tuple(embeds), view, marker))
    return posts


def custom_ids(message: discord.Message) -> list[str]:
    """The custom ids of the buttons and menus under ``message``."""
    return [
        custom_id
        for row in message.components
        for item in getattr(row, "children", ())
        if (custom_id := getattr(item, "custom_id", None))
    ]


def results_post(event: ChallengeEvent) -> Post:
    """The results, with the shelf picture when someone won."""
    text = results_text(MARKDOWN, event.challenge.theme_name, event.results)
    won = any(placing.votes for placing in event.results)
    return Post(text, (("winners.png", event.shelf),) if won and event.shelf else ())


class Announcer:
    """The challenges' announcer for Discord channels."""

    def __init__(self, client: Connection) -> None:
        self.client = client

    async def __call__(self, event: ChallengeEvent) -> None:
        """Post the announcement (or what is left of it); raise when Discord failed, to be retried."""
        if not self.client.logged_in:
            raise NotConnected("not logged in to Discord yet")
        posts = await self._posts(event)
        channel = self.client.get_partial_messageable(int(event.challenge.chat_id))
        try:
            shown = await self._shown(channel) if any(post.marker for post in posts) else set()
            for post in posts:
                if post.marker is None or post.marker not in shown:
                    await channel.send(**post.options())
        except discord.HTTPException as error:
            if error.status not in GIVEN_UP:
                raise
            # Trying again would not help: the channel is gone or closed to the bot, or the post is refused.
            log.warning("challenge %s cannot be announced (HTTP %s)", event.challenge.id, error.status)

    async def _shown(self, channel: discord.PartialMessageable) -> set[str]:
        """The custom ids of the buttons under the bot's recent messages in ``channel``; none when they
        cannot be read."""
        shown: set[str] = set()
        try:
            async for message in channel.history(limit=HISTORY):
                if self.client.user is not None and message.author.id == self.client.user.id:
                    shown.update(custom_ids(message))
        except discord.HTTPException as error:
            log.warning("cannot read the channel's recent messages (HTTP %s)", error.status)
        return shown

    async def _posts(self, event: ChallengeEvent) -> list[Post]:
        match event.kind:
            case ChallengeEventKind.VOTING:
                return await ballots(event)
            case ChallengeEventKind.CLOSED:
                return [results_post(event)]
            case ChallengeEventKind.CANCELLED:
                return [Post(called_off_text(MARKDOWN, event.challenge))]
        raise ValueError(f"unknown challenge event {event.kind!r}")
