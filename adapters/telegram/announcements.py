"""A challenge's phase changes, posted in its group: the entries as photo albums and a ballot of vote
buttons when voting opens, the results and the shelf picture at close, or the cancellation.

The core marks an announcement done only once the announcer returns, so one that Telegram did not take
(unreachable, or still asking to wait after the pacer's tries) raises and the core tries again at its
next check; the posts that went out before the failure are not repeated. A post Telegram refuses (an
album it will not take) is skipped; when the bot left the group, or the group moved to a new id, the
rest of the announcement is given up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest, ChatMigrated, Forbidden

from adapters.challenge_wording import (
    SHOWN_PLACES,
    called_off_text,
    more_entries_text,
    results_text,
    shelf_caption,
    voting_text,
)
from adapters.telegram.challenges import member_names
from adapters.telegram.chat import PLATFORM
from adapters.telegram.delivery import MEDIA_READ_TIMEOUT, BotSource
from adapters.telegram.keyboards import ballot_keyboard
from adapters.telegram.markup import PARSE_MODE, Html
from adapters.telegram.pacing import Pacer
from bot.challenge_types import ChallengeEvent, ChallengeEventKind
from bot.challenges import ChallengeService
from bot.logs import log_event
from bot.output import small_jpeg_of

log = logging.getLogger("figurebot.telegram")

ALBUM_SIZE = 10  # Telegram's most photos in one album
BALLOT_SIZE = 100  # Telegram's most buttons under one message
ENTRY_SIDE = 1280  # Telegram shows photos no larger

Post = Callable[[], Awaitable[object]]  # one request that puts one message (or album) in the group


class Announcer:
    """The challenges' announcer for Telegram groups."""

    def __init__(self, bot: BotSource, pacer: Pacer, challenges: ChallengeService) -> None:
        self.bot = bot
        self.pacer = pacer
        self.challenges = challenges
        # One at a time: the core may hand one announcement over twice at once (a command that moved the
        # challenge on, and the deadline check seeing it not announced yet).
        self._lock = asyncio.Lock()
        self._posted: dict[tuple[str, str], int] = {}  # announcement → how many of its posts went out
        self._done: set[tuple[str, str]] = set()

    async def __call__(self, event: ChallengeEvent) -> None:
        """Post the announcement, or what is left of it; raise when Telegram did not take a post."""
        key = (event.challenge.id, event.kind.value)
        async with self._lock:
            if key in self._done:
                return
            chat = int(event.challenge.chat_id)
            posts = await self._posts(await self.bot(), chat, event)
            try:
                for post in posts[self._posted.get(key, 0) :]:
                    try:
                        await self.pacer.send(chat, post)
                    except BadRequest as error:  # this post only: the others may still go
                        log_event(log, "telegram.post_refused", logging.WARNING, error=error.message)
                    self._posted[key] = self._posted.get(key, 0) + 1
            except ChatMigrated as error:  # the group became a supergroup: the challenge follows it there
                await self.challenges.move_chat(PLATFORM, str(chat), str(error.new_chat_id))
                self._posted.pop(key, None)
                raise  # the core tries again, with the new id
            except Forbidden as error:  # the bot left the group: trying every minute would not help
                log_event(log, "telegram.undeliverable", logging.WARNING, error=error.message)
            self._posted.pop(key, None)
            self._done.add(key)

    async def _posts(self, bot: Bot, chat: int, event: ChallengeEvent) -> list[Post]:
        match event.kind:
            case ChallengeEventKind.VOTING:
                return await self._ballot(bot, chat, event)
            case ChallengeEventKind.CLOSED:
                return await self._results(bot, chat, event)
            case ChallengeEventKind.CANCELLED:
                text = called_off_text(Html(self.challenges.clock()), event.challenge)
                return [lambda: bot.send_message(chat, text, parse_mode=PARSE_MODE)]
        raise ValueError(f"unknown challenge event {event.kind!r}")

    async def _ballot(self, bot: Bot, chat: int, event: ChallengeEvent) -> list[Post]:
        """The entries as albums, "Entry 3" under each and no names; then the vote buttons."""
        pictures, missing = [], []
        for entry in event.entries:
            picture = await asyncio.to_thread(small_jpeg_of, event.images.get(entry.id) or b"", ENTRY_SIDE)
            if picture is None:
                missing.append(entry.number)
            else:
                pictures.append((entry.number, picture))
        posts = [
            _album(bot, chat, pictures[start : start + ALBUM_SIZE])
            for start in range(0, len(pictures), ALBUM_SIZE)
        ]
        challenge, markup = event.challenge, Html(self.challenges.clock())
        numbers = [entry.number for entry in event.entries]
        for start in range(0, len(numbers), BALLOT_SIZE):
            first = start == 0
            text = voting_text(markup, challenge, missing) if first else more_entries_text(markup, challenge)
            keyboard = ballot_keyboard(challenge.id, numbers[start : start + BALLOT_SIZE])
            posts.append(
                lambda text=text, keyboard=keyboard: bot.send_message(
                    chat, text, reply_markup=keyboard, parse_mode=PARSE_MODE
                )
            )
        return posts

    async def _results(self, bot: Bot, chat: int, event: ChallengeEvent) -> list[Post]:
        """The results, with the winners named as the group knows them, and the shelf when someone won."""
        won = any(placing.votes for placing in event.results)
        shown = event.results[:SHOWN_PLACES] if won else ()
        names = await member_names(bot, chat, [placing.entry.user_id for placing in shown])
        markup = Html(self.challenges.clock(), names)
        text = results_text(markup, event.challenge.theme_name, event.results)
        posts: list[Post] = [lambda: bot.send_message(chat, text, parse_mode=PARSE_MODE)]
        shelf = event.shelf
        if won and shelf:
            caption = shelf_caption(markup, event.challenge)
            posts.append(
                lambda: bot.send_photo(
                    chat,
                    shelf,
                    caption=caption,
                    parse_mode=PARSE_MODE,
                    filename="winners.png",
                    read_timeout=MEDIA_READ_TIMEOUT,
                )
            )
        return posts


def _album(bot: Bot, chat: int, pictures: list[tuple[int, bytes]]) -> Post:
    """One album of entries; a single photo when only one is left (an album needs two)."""
    if len(pictures) == 1:
        number, data = pictures[0]
        return lambda: bot.send_photo(chat, data, caption=f"Entry {number}", read_timeout=MEDIA_READ_TIMEOUT)
    return lambda: bot.send_media_group(
        chat,
        [InputMediaPhoto(data, caption=f"Entry {number}") for number, data in pictures],
        read_timeout=MEDIA_READ_TIMEOUT,
    )
