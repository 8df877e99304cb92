"""``/challenge …`` in a group: members see the state, enter and withdraw figures and read the
leaderboard; the group's administrators start, move on and cancel challenges. A challenge belongs to the
group it was started in. Moving one on or calling it off is answered by its announcement (see
``announcements``), which the core posts as part of the change. Answers are in Telegram's HTML (see
``markup``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Bot, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CommandHandler, filters

from adapters.challenge_wording import (
    challenge_status_text,
    entered_text,
    leaderboard_text,
    started_text,
    withdrawn_text,
)
from adapters.telegram.chat import Context, Messenger, guarded, is_private, person_of, requester_of
from adapters.telegram.markup import PARSE_MODE, Html, escaped
from adapters.telegram.pacing import once_more
from bot.challenges import ChallengeService
from bot.config import parse_duration
from bot.errors import UserFacingError
from bot.jobs import Requester

USAGE = """Theme challenges in this group:
/challenge start Space Week 2h [30m]  start one (admins): the theme, how long entries are taken, \
then how long voting runs
/challenge status  the challenge now, and your entries
/challenge enter  enter your latest figure made here since the challenge began
/challenge withdraw  take back your entry before voting starts
/challenge advance  move on now: to voting, or to the results (admins)
/challenge cancel  call the challenge off (admins)
/challenge leaderboard  points from this group's challenges"""
GROUPS_ONLY = "Challenges run in groups: add me to one and type /challenge there."
START_USAGE = "Write it as: /challenge start Space Week 2h, or with the voting time too: … 2h 30m."
ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
PERSONAL = ("enter", "withdraw")  # about one's own figures: refused to messages posted as a chat

Subcommand = Callable[[Message, Requester, list[str]], Awaitable[str | None]]


def is_period(word: str) -> bool:
    """Whether ``word`` is a time like ``90m``, ``2h`` or ``1h30m`` (a bare number is not)."""
    try:
        parse_duration(word)
    except ValueError:
        return False
    return any(char.isalpha() for char in word)


def split_start(words: list[str]) -> tuple[str, str, str | None]:
    """``Space Week 2h 30m`` → the theme, the time for entries and the time for voting, read from the end."""
    if len(words) < 2:
        raise UserFacingError(START_USAGE)
    if len(words) >= 3 and is_period(words[-2]) and is_period(words[-1]):
        return " ".join(words[:-2]), words[-2], words[-1]
    return " ".join(words[:-1]), words[-1], None


async def is_admin(bot: Bot, message: Message) -> bool:
    """Whether the sender runs the group: its creator or an administrator. An anonymous administrator
    writes as the group itself; someone posting as a channel does not run it."""
    if message.sender_chat is not None:
        return message.sender_chat.id == message.chat_id
    if message.from_user is None:
        return False
    user_id = message.from_user.id
    member = await once_more(lambda: bot.get_chat_member(message.chat_id, user_id))
    return member.status in ADMINS


async def member_names(bot: Bot, chat_id: int, user_ids: list[str]) -> dict[str, str]:
    """How each member shows in the group: ``@username``, or their name. Those no longer known in the
    group are left out."""
    names = {}
    for user_id in dict.fromkeys(user_ids):
        try:
            user = (await once_more(lambda user_id=user_id: bot.get_chat_member(chat_id, int(user_id)))).user
        except (BadRequest, Forbidden):  # not known in this group any more
            continue
        names[user_id] = f"@{user.username}" if user.username else user.full_name
    return names


class ChallengeCommands:
    """The ``/challenge`` command and its subcommands; ``register`` adds it to a PTB Application."""

    def __init__(self, challenges: ChallengeService, messenger: Messenger) -> None:
        self.challenges = challenges
        self.messenger = messenger
        self._subcommands: dict[str, Subcommand] = {
            "start": self._start,
            "status": self._status,
            "enter": self._enter,
            "withdraw": self._withdraw,
            "advance": self._advance,
            "cancel": self._cancel,
            "leaderboard": self._leaderboard,
            "help": self._help,
        }

    def register(self, application: Application) -> None:
        """Add the command (before any catch-all for unknown commands)."""
        application.add_handler(
            CommandHandler("challenge", self.on_command, filters=filters.UpdateType.MESSAGE)
        )

    @guarded
    async def on_command(self, update: Update, context: Context) -> None:
        message = update.message
        if is_private(message):
            raise UserFacingError(GROUPS_ONLY)
        words = context.args or ["help"]
        subcommand = self._subcommands.get(words[0].lower())
        if subcommand is None:
            raise UserFacingError(f"I don't know “/challenge {words[0][:20]}”. /challenge help lists them.")
        requester = person_of(update) if words[0].lower() in PERSONAL else requester_of(update)
        answer = await subcommand(message, requester, words[1:])
        if answer:
            await self.messenger.reply(message, answer, parse_mode=PARSE_MODE)

    async def _start(self, message: Message, requester: Requester, words: list[str]) -> str:
        theme, entering, voting = split_start(words)
        admin = await is_admin(self.messenger.bot, message)
        started = await self.challenges.begin(requester, theme, entering, voting, is_admin=admin)
        how_to_make = f"Send a photo here with a caption like “@{escaped(self.messenger.bot.username)} Alex”"
        return started_text(Html(self.challenges.clock()), started, how_to_make)

    async def _status(self, message: Message, requester: Requester, words: list[str]) -> str:
        current, entries, mine = await self.challenges.status(requester)
        return challenge_status_text(Html(self.challenges.clock()), current, entries, mine)

    async def _enter(self, message: Message, requester: Requester, words: list[str]) -> str:
        return escaped(entered_text(*await self.challenges.enter(requester)))

    async def _withdraw(self, message: Message, requester: Requester, words: list[str]) -> str:
        return escaped(withdrawn_text(await self.challenges.withdraw(requester)))

    async def _advance(self, message: Message, requester: Requester, words: list[str]) -> None:
        await self.challenges.advance(requester, is_admin=await is_admin(self.messenger.bot, message))

    async def _cancel(self, message: Message, requester: Requester, words: list[str]) -> None:
        await self.challenges.cancel(requester, is_admin=await is_admin(self.messenger.bot, message))

    async def _leaderboard(self, message: Message, requester: Requester, words: list[str]) -> str:
        standings = await self.challenges.leaderboard(requester)  # the top ten
        names = await member_names(self.messenger.bot, message.chat_id, [s.user_id for s in standings])
        return leaderboard_text(Html(self.challenges.clock(), names), standings, "group")

    async def _help(self, message: Message, requester: Requester, words: list[str]) -> str:
        return escaped(USAGE)
