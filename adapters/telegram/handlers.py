"""Commands and messages: what the bot answers to each, and which messages of a group it answers at all.

In private chats it answers everything. In groups only commands, replies to its own messages, and photos
whose caption mentions it: a busy group's photos are left alone.
"""

from __future__ import annotations

import re
from collections import OrderedDict

from telegram import BotCommand, Message, MessageEntity, Update
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from adapters.telegram.chat import Context, Messenger, guarded, is_private, person_of, requester_of
from adapters.telegram.figures import Figures, upload_of
from adapters.telegram.keyboards import accept_keyboard, forget_keyboard
from adapters.wording import CAPTION_HELP, describe, privacy_text, quota_text, themes_text, unusable_upload
from bot.engine import JobEngine
from bot.errors import UserFacingError

WELCOME = (
    "Hi! I turn a photo of you into a collectible action figure, boxed with your name on it.\n"
    "Send me a photo with a caption like: Alex | astronaut | helmet, cat. "
    "Or send just the photo, then pick a theme on the buttons."
)
HELP = f"""{WELCOME}

{CAPTION_HELP}
Reply to one of your photos with /figure to use it. Under each figure: Re-roll, Change theme, Delete.

/themes  the theme catalog
/quota  your figures today and the limits
/privacy  what happens to your photo
/forget  delete everything stored about you
/cancel  stop the figure in the works
/challenge  theme challenges in groups: make figures in a theme, vote, crown a winner
/settings  a group's settings (its admins can keep photos on this bot's own machines)
In groups, mention me in the photo's caption, or reply to your photo with /figure."""
COMMANDS = (
    BotCommand("figure", "make a figure: reply to your photo with it"),
    BotCommand("themes", "the theme catalog"),
    BotCommand("quota", "your figures today and the limits"),
    BotCommand("privacy", "what happens to your photo"),
    BotCommand("forget", "delete everything stored about you"),
    BotCommand("cancel", "stop the figure in the works"),
    BotCommand("challenge", "theme challenges in groups: /challenge help"),
    BotCommand("settings", "a group's settings; its admins can change them"),
    BotCommand("help", "how to use this bot"),
)
NO_PHOTO = "Send me a photo to make a figure, with a caption like: Alex | astronaut. /help shows more."
REPLY_TO_PHOTO = (
    "Reply with /figure to a photo you sent, or send a photo with a caption like: Alex | astronaut."
)
NOT_YOUR_PHOTO = "Reply with /figure to a photo you sent yourself: I make figures only of whoever asks."
ALBUM = "You sent an album: I make one figure per photo, so I'm using the first one. Send others one by one."
PICK_FIRST = "First pick a theme on the buttons above; then I'll ask for the name."
UNKNOWN_COMMAND = "I don't know that command. /help lists what I can do."
FORGET_ASK = (
    "This deletes every photo, figure, job and setting stored about you. "
    "Figures already posted stay in their chats. Delete it all?"
)
NOTHING_TO_CANCEL = "You have no figure in the works here."
DROPPED = "OK: I dropped the photo you sent."
# Messages that cannot become a figure, by the Message attribute that holds their content (a venue has a
# location too: it comes first).
UNUSABLE = {
    "sticker": "sticker",
    "animation": "GIF",
    "video": "video",
    "video_note": "video message",
    "voice": "voice message",
    "audio": "audio file",
    "venue": "place",
    "location": "location",
    "contact": "contact",
    "poll": "poll",
}
_UNUSABLE_FILTER = (
    filters.Sticker.ALL
    | filters.ANIMATION
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.VOICE
    | filters.AUDIO
    | filters.VENUE
    | filters.LOCATION
    | filters.CONTACT
    | filters.POLL
)
_NEW = filters.UpdateType.MESSAGE  # an edited message is not a new request
_ALBUMS_REMEMBERED = 256


class Handlers:
    """The bot's answers to commands and messages; ``register`` adds them to a PTB Application."""

    def __init__(self, engine: JobEngine, figures: Figures, messenger: Messenger) -> None:
        self.engine = engine
        self.figures = figures
        self.messenger = messenger
        self._albums: OrderedDict[str, str | None] = OrderedDict()  # album → the draft of its first photo

    def register(self, application: Application) -> None:
        commands = {
            "start": self.start,
            "help": self.help,
            "figure": self.figure,
            "themes": self.themes,
            "privacy": self.privacy,
            "quota": self.quota,
            "forget": self.forget,
            "cancel": self.cancel,
        }
        for name, callback in commands.items():
            application.add_handler(CommandHandler(name, callback, filters=_NEW))
        application.add_handler(MessageHandler(_NEW & _UNUSABLE_FILTER, self.on_unusable))
        application.add_handler(MessageHandler(_NEW & (filters.PHOTO | filters.Document.ALL), self.on_photo))
        application.add_handler(MessageHandler(_NEW & filters.TEXT & ~filters.COMMAND, self.on_text))
        application.add_handler(MessageHandler(_NEW & filters.COMMAND, self.on_unknown_command))

    def for_me(self, message: Message) -> bool:
        """Whether a message is for this bot: any in a private chat; in a group, a reply to the bot or a
        mention of it (``@bot`` or ``/command@bot``)."""
        if is_private(message):
            return True
        bot = self.messenger.bot
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        mention = f"@{bot.username}".casefold()
        kinds = [MessageEntity.MENTION, MessageEntity.BOT_COMMAND]
        named = [*message.parse_entities(kinds).values(), *message.parse_caption_entities(kinds).values()]
        return any(text.casefold().endswith(mention) for text in named)

    def _caption(self, text: str | None) -> str:
        """``text`` without mentions of the bot, which may stand anywhere in a group's caption."""
        return re.sub(rf"@{re.escape(self.messenger.bot.username)}\b", " ", text or "", flags=re.IGNORECASE)

    # Commands

    @guarded
    async def start(self, update: Update, context: Context) -> None:
        await self._notice(update, f"{WELCOME}\n\n")

    @guarded
    async def help(self, update: Update, context: Context) -> None:
        await self.messenger.reply(update.message, HELP)

    @guarded
    async def themes(self, update: Update, context: Context) -> None:
        await self.messenger.reply(update.message, themes_text())

    @guarded
    async def privacy(self, update: Update, context: Context) -> None:
        await self._notice(update, "")

    async def _notice(self, update: Update, before: str) -> None:
        notice, needs_accept = await privacy_text(self.engine, requester_of(update))
        markup = accept_keyboard(None) if needs_accept else None
        await self.messenger.reply(update.message, before + notice, markup)

    @guarded
    async def quota(self, update: Update, context: Context) -> None:
        await self.messenger.reply(update.message, quota_text(await self.engine.quota(requester_of(update))))

    @guarded
    async def forget(self, update: Update, context: Context) -> None:
        await self.messenger.reply(update.message, FORGET_ASK, forget_keyboard(person_of(update).user_id))

    @guarded
    async def cancel(self, update: Update, context: Context) -> None:
        """Cancel the user's latest figure in the works in this chat, or drop the photo being set up."""
        requester = person_of(update)
        dropped = await self.figures.drafts.drop(requester)
        job = await self.engine.cancel_latest(requester, here_only=True)
        if job is not None:
            await self.messenger.reply(update.message, f"Cancelled: {describe(job.spec)}.")
        else:
            await self.messenger.reply(update.message, DROPPED if dropped else NOTHING_TO_CANCEL)

    @guarded
    async def figure(self, update: Update, context: Context) -> None:
        """``/figure [caption]`` as a reply to one's own photo."""
        message = update.message
        requester = person_of(update)
        photo_message = message.reply_to_message
        upload = upload_of(photo_message) if photo_message is not None else None
        if photo_message is None or upload is None:
            raise UserFacingError(REPLY_TO_PHOTO)
        if photo_message.from_user is None or photo_message.from_user.id != message.from_user.id:
            raise UserFacingError(NOT_YOUR_PHOTO)
        await self.figures.from_photo(requester, photo_message, upload, self._caption(message.text), message)

    @guarded
    async def on_unknown_command(self, update: Update, context: Context) -> None:
        if self.for_me(update.message):
            await self.messenger.reply(update.message, UNKNOWN_COMMAND)

    # Messages

    @guarded
    async def on_photo(self, update: Update, context: Context) -> None:
        message = update.message
        if not self.for_me(message):
            return
        album = message.media_group_id
        if album and album in self._albums:  # a later photo of an album: only its caption may be used
            draft = await self.figures.drafts.get(self._albums[album] or "")
            if draft is not None and message.caption:
                await self.figures.caption_given(draft, message, self._caption(message.caption))
            return
        if album:
            self._remember_album(album)
        requester = person_of(update)
        upload = upload_of(message)
        if upload is None:
            return
        if album:
            await self.messenger.reply(message, ALBUM)
        caption = self._caption(message.caption)
        draft = await self.figures.from_photo(requester, message, upload, caption, message)
        if album:
            self._albums[album] = draft.id

    def _remember_album(self, album: str) -> None:
        """Note an album whose first photo is used: its later photos are not (see ``on_photo``)."""
        self._albums[album] = None
        if len(self._albums) > _ALBUMS_REMEMBERED:
            self._albums.popitem(last=False)

    @guarded
    async def on_unusable(self, update: Update, context: Context) -> None:
        message = update.message
        if self.for_me(message):
            kind = next((label for field, label in UNUSABLE.items() if getattr(message, field)), "file")
            await self.messenger.reply(message, unusable_upload(kind))

    @guarded
    async def on_text(self, update: Update, context: Context) -> None:
        """The name a draft asked for; elsewhere a hint (in groups only for replies to the bot)."""
        message = update.message
        draft = await self.figures.drafts.of(requester_of(update))
        replied = message.reply_to_message
        answers = is_private(message) or (
            replied is not None and draft is not None and replied.id == draft.asked
        )
        if draft is not None and draft.needs_name and answers:
            await self.figures.name_given(draft, message)
        elif draft is not None and draft.spec is None and is_private(message):
            await self.messenger.reply(message, PICK_FIRST)
        elif self.for_me(message):
            await self.messenger.reply(message, NO_PHOTO)
