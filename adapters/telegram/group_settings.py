"""``/settings`` in a group: its admins keep photos on this bot's own machines, lower the daily quota or
the photo retention; anyone may read the settings."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from adapters.telegram.challenges import is_admin
from adapters.telegram.chat import PLATFORM, Context, Messenger, guarded, is_private, requester_of
from adapters.wording import chat_settings_lines
from bot.challenges import ChallengeService
from bot.chat_settings import parse_daily_quota
from bot.config import Settings, parse_duration
from bot.engine import JobEngine
from bot.errors import UserFacingError

log = logging.getLogger("figurebot.telegram")

USAGE = (
    "Group admins change these with: /settings local on|off · /settings quota N|default · "
    "/settings retention 30m|default"
)
GROUPS_ONLY = "Settings are for groups: in a private chat, /privacy and /quota say what applies to you."
ADMINS_ONLY = "Only this group's admins can change its settings."
SWITCH = {"on": True, "yes": True, "off": False, "no": False}


def parse_change(words: list[str]) -> dict[str, object]:
    """The chat-settings change ``/settings NAME VALUE`` asks for; a readable refusal otherwise."""
    if len(words) != 2:
        raise UserFacingError(USAGE)
    name, value = words[0].lower(), words[1].lower()
    if name == "local" and value in SWITCH:
        return {"local_only": SWITCH[value]}
    if name == "quota":
        try:
            return {"daily_quota_per_user": parse_daily_quota(value)}
        except UserFacingError:
            raise UserFacingError(USAGE) from None
    if name == "retention":
        if value == "default":
            return {"photo_retention": None}
        try:
            return {"photo_retention": parse_duration(value)}
        except ValueError:
            raise UserFacingError(f"“{value[:20]}” is not a duration; write e.g. 0, 30m or 1h.") from None
    raise UserFacingError(USAGE)


class GroupSettings:
    """The ``/settings`` command, and a group's settings and challenges following it when Telegram gives
    it a new id (a group becoming a supergroup); ``register`` adds both to a PTB Application."""

    def __init__(
        self, engine: JobEngine, settings: Settings, messenger: Messenger, challenges: ChallengeService
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.messenger = messenger
        self.challenges = challenges

    def register(self, application: Application) -> None:
        application.add_handler(
            CommandHandler("settings", self.on_command, filters=filters.UpdateType.MESSAGE)
        )
        application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.on_moved))

    async def on_moved(self, update: Update, context: Context) -> None:
        """The group became a supergroup with a new id: keep its admins' choices (local-only above all)."""
        message = update.effective_message
        if message is None or not message.migrate_to_chat_id:
            return  # the supergroup's own "migrated from" message: the old group's says it all
        try:
            await self.challenges.move_chat(PLATFORM, str(message.chat_id), str(message.migrate_to_chat_id))
        except Exception:
            log.exception("moving a group's settings to its new id failed")

    @guarded
    async def on_command(self, update: Update, context: Context) -> None:
        message = update.message
        if is_private(message):
            raise UserFacingError(GROUPS_ONLY)
        requester = requester_of(update)
        if context.args:
            change = parse_change(context.args)
            if not await is_admin(self.messenger.bot, message):
                raise UserFacingError(ADMINS_ONLY)
            current = await self.engine.update_chat_settings(requester, **change)
        else:
            current = await self.engine.chat_settings(requester)
        lines = ["figurebot in this group:", *chat_settings_lines(current, self.engine), USAGE]
        await self.messenger.reply(message, "\n".join(lines))
