"""Talking in a chat: who is asking, answers sent in the chat's turn, and the guard that turns any failure
of a handler into one line for the user, so that no update can stop the bot."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from adapters.telegram.pacing import Pacer, once_more
from adapters.wording import BROKEN
from bot.errors import UserFacingError
from bot.jobs import Requester
from bot.logs import log_event

log = logging.getLogger("figurebot.telegram")

PLATFORM = "telegram"
ALERT_LIMIT = 200  # characters Telegram shows in a button's answer
Context = ContextTypes.DEFAULT_TYPE
POST_AS_YOURSELF = (
    "Post as yourself, not as a channel or anonymously: then I know whose figure and photos these are."
)


def requester_of(update: Update) -> Requester:
    """Who sent the update, and from which chat (every message has one; presses are checked first)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return Requester(PLATFORM, str(user.id), str(chat.id))


def person_of(update: Update) -> Requester:
    """The requester of a message sent by a person. Messages posted as a channel or by an anonymous admin
    all come from one shared Telegram account, so what is personal (figures, /cancel, /forget, entries)
    is refused for them."""
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        raise UserFacingError(POST_AS_YOURSELF)
    return requester_of(update)


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


def replying_to(message_id: int | None) -> ReplyParameters | None:
    """Reply to ``message_id`` if it still exists, else just send."""
    return ReplyParameters(message_id, allow_sending_without_reply=True) if message_id else None


class Messenger:
    """The bot's voice: every message and edit waits for its chat's turn (see ``pacing``)."""

    def __init__(self, bot: Bot, pacer: Pacer) -> None:
        self.bot = bot
        self.pacer = pacer

    async def say(
        self,
        chat_id: int,
        text: str,
        reply_to: int | None = None,
        keyboard: Any = None,
        parse_mode: str | None = None,
    ) -> Message:
        return await self.pacer.send(
            chat_id,
            lambda: self.bot.send_message(
                chat_id,
                text,
                reply_markup=keyboard,
                reply_parameters=replying_to(reply_to),
                parse_mode=parse_mode,
            ),
        )

    async def reply(
        self, message: Message, text: str, keyboard: Any = None, parse_mode: str | None = None
    ) -> Message:
        return await self.say(message.chat_id, text, message.message_id, keyboard, parse_mode)

    async def edit(
        self, chat_id: int, message_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> None:
        """Change a message's text, and its buttons (none unless given)."""

        async def put() -> None:
            try:
                await self.bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, reply_markup=keyboard
                )
            except BadRequest as error:
                if "not modified" not in error.message.lower():
                    raise

        await self.pacer.send(chat_id, put)

    async def tell(self, update: Update, text: str) -> None:
        """Answer where the user acted: an alert for a button, a reply for a message."""
        try:
            if update.callback_query is not None:
                query = update.callback_query
                await once_more(lambda: query.answer(text[:ALERT_LIMIT], show_alert=True))
            elif update.effective_message is not None:
                await self.reply(update.effective_message, text)
        except TelegramError as error:
            log_event(log, "telegram.answer_failed", logging.WARNING, error=error.message)


class Speaker(Protocol):
    messenger: Messenger


S = TypeVar("S", bound=Speaker)
Handler = Callable[[S, Update, Context], Awaitable[None]]


def guarded(handler: Handler[S]) -> Handler[S]:
    """Run ``handler``: a user-facing error becomes its one-line message; anything else is logged and
    answered with an apology. Updates without a sender are left alone: there is nobody to answer."""

    @functools.wraps(handler)
    async def run(self: S, update: Update, context: Context) -> None:
        if update.effective_user is None:
            return
        try:
            await handler(self, update, context)
        except UserFacingError as error:
            await self.messenger.tell(update, error.message)
        except TelegramError as error:  # Telegram refused or could not be reached: worth another try
            log_event(log, "telegram.request_failed", logging.WARNING, error=error.message)
            await self.messenger.tell(update, BROKEN)
        except Exception:
            log.exception("telegram update failed", extra={"update": update.update_id})
            await self.messenger.tell(update, BROKEN)

    return run
