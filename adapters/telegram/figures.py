"""From a photo in a chat to a queued job: the upload checked and cleaned, a theme and a name asked for
when the caption gave none (the draft kept in the store meanwhile), and the job queued. The job's status
message ("number 1 in the queue") comes from the engine once the job is stored, never before.

Each job is queued with its ``origin``, the message or button press that asked for it: handled again after
a crash, the same message finds its job instead of making a second one.

While a challenge takes entries in the chat, its theme is the default: a caption that names no theme
("@bot Alex") makes a figure that can be entered. A photo without a caption still gets the theme buttons.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace

from telegram import ForceReply, InlineKeyboardMarkup, Message, User
from telegram.error import TelegramError

from adapters.telegram.chat import Messenger
from adapters.telegram.delivery import Ref
from adapters.telegram.keyboards import Action, accept_keyboard, name_keyboard, theme_keyboard
from adapters.telegram.pacing import once_more
from adapters.wording import BROKEN
from bot.challenge_types import Phase
from bot.challenges import ChallengeService
from bot.config import MB, Settings
from bot.drafts import Draft
from bot.engine import JobEngine
from bot.errors import UserFacingError
from bot.intake import NOT_A_PHOTO, IntakeLimits, Photo, PhotoRejected, accept_photo, check_file_size
from bot.jobs import Requester
from bot.logs import log_event
from bot.privacy import ConsentRequired
from bot.spec import DEFAULT_NAME, LIMITS, FigureSpec, SpecError, clean_text, parse_caption
from bot.themes import find_theme

log = logging.getLogger("figurebot.telegram")

ASK_THEME = "Pick a theme for your figure:"
ASK_NAME = "What name goes on the box? Reply with it."
FETCH_FAILED = "I couldn't fetch your photo from Telegram just now; please send it again."
EMPTY_NAME = "That name is empty. Reply with the name for the box, or tap the button to use yours."
_UNNAMED = FigureSpec(name="")  # a parsed caption always has a name; this one means it set nothing


@dataclass(frozen=True)
class Upload:
    """A file in a message that may be a photo: its Telegram id and the size Telegram reports."""

    file_id: str
    size: int | None


def upload_of(message: Message) -> Upload | None:
    """The photo of ``message`` (its largest size) or its image file; a file of another type is refused."""
    if message.photo:
        largest = message.photo[-1]
        return Upload(largest.file_id, largest.file_size)
    document = message.document
    if document is None:
        return None
    mime = (document.mime_type or "").lower()
    if mime and not mime.startswith("image/"):
        raise PhotoRejected(NOT_A_PHOTO)
    return Upload(document.file_id, document.file_size)


def message_origin(message: Message) -> str:
    """The ``origin`` of a job a message asks for."""
    return f"telegram:message:{message.chat_id}:{message.message_id}"


def name_of(user: User) -> str:
    """The user's first name as a box name, or the default name when it cannot be one."""
    try:
        return clean_text(user.first_name, "name", LIMITS["name"]) or DEFAULT_NAME
    except SpecError:
        return DEFAULT_NAME


class Figures:
    """Takes photos in, keeps drafts while the user chooses, and queues figures on the engine."""

    def __init__(
        self, engine: JobEngine, settings: Settings, messenger: Messenger, challenges: ChallengeService
    ) -> None:
        self.engine = engine
        self.messenger = messenger
        self.challenges = challenges
        self.drafts = engine.drafts
        own = IntakeLimits.from_settings(settings)
        self.download_limit = int(settings.telegram_download_max_mb * MB)
        self.limits = replace(own, max_bytes=min(own.max_bytes, self.download_limit))

    async def from_photo(
        self, requester: Requester, message: Message, upload: Upload, caption: str, asked_by: Message
    ) -> Draft:
        """Queue the figure of the photo in ``message`` (which the figure will answer), or ask for a
        theme when the caption sets nothing; the draft. ``asked_by`` is the message that asked: the
        photo's own, or a ``/figure`` reply to it."""
        spec = parse_caption(caption, base=await self._unnamed(requester))  # before the download
        photo = await self.download(upload)
        await self.drafts.drop(requester)  # a new photo replaces the one being set up
        draft = self.drafts.create(
            requester, message.message_id, photo=photo, spec=spec if spec.name else None
        )
        if draft.spec is not None:
            await self.launch(draft, message_origin(asked_by))
            return draft
        await self.drafts.keep(draft)  # stored before its buttons show: they work even if we die now
        draft.panel = (
            await self.messenger.reply(message, ASK_THEME, theme_keyboard(Action.PICK, draft.id))
        ).message_id
        await self.drafts.keep(draft)
        return draft

    async def caption_given(self, draft: Draft, message: Message, caption: str) -> None:
        """A caption that came after the photo (on a later photo of its album, ``message``): it is used
        as if the photo had carried it, unless the draft's theme is already picked."""
        spec = parse_caption(caption, base=await self._unnamed(draft.requester))
        if draft.spec is None and spec.name:
            draft.spec = spec
            await self.launch(draft, message_origin(message))

    async def _unnamed(self, requester: Requester) -> FigureSpec:
        """What a caption starts from: no name, and the theme of the chat's challenge taking entries."""
        challenge = await self.challenges.current(requester)
        if challenge is not None and challenge.phase is Phase.SUBMISSIONS:
            return replace(_UNNAMED, theme=challenge.theme)
        return _UNNAMED

    async def download(self, upload: Upload) -> bytes:
        """The photo, checked and cleaned (no metadata), as JPEG bytes; sizes are checked first."""
        check_file_size(upload.size or 0, self.limits)
        try:
            file = await once_more(lambda: self.messenger.bot.get_file(upload.file_id))
            check_file_size(file.file_size or 0, self.limits)
            data = await file.download_as_bytearray()
        except TelegramError as error:
            if "too big" in error.message.lower():
                raise PhotoRejected(
                    f"That file is over the {self.download_limit // MB} MB a bot may download from Telegram."
                ) from None
            log_event(log, "telegram.download_failed", logging.WARNING, error=error.message)
            raise UserFacingError(FETCH_FAILED) from None
        photo = await asyncio.to_thread(accept_photo, bytes(data), self.limits)
        return await asyncio.to_thread(photo.encode, "JPEG")

    async def ask_name(self, draft: Draft, panel: int, theme: str, user: User) -> None:
        """The theme is chosen: the ``panel`` offers the user's own name, and a question asks for another."""
        draft.spec = FigureSpec(name="", theme=theme)
        draft.panel = panel
        first_name = name_of(user)
        text = (
            f"Theme: {find_theme(theme).name}. What name goes on the box? Reply to my question, or tap below."
        )
        await self.messenger.edit(draft.chat_id, panel, text, name_keyboard(draft.id, first_name))
        question = ForceReply(selective=True, input_field_placeholder=first_name)
        draft.asked = (await self.messenger.say(draft.chat_id, ASK_NAME, draft.reply_to, question)).message_id
        await self.drafts.keep(draft)

    async def name_given(self, draft: Draft, answer: Message) -> None:
        """The answer to the name question (options such as ``style=window`` work too)."""
        spec = parse_caption(answer.text or "", base=draft.spec)
        if not spec.name:
            raise UserFacingError(EMPTY_NAME)
        draft.spec = spec
        await self.launch(draft, message_origin(answer))

    async def launch(self, draft: Draft, origin: str) -> None:
        """Queue the draft's figure, asked for by ``origin``. Once the job is stored, its panel (or a new
        message) shows its place in the queue and becomes its status message; a refusal is written
        there, and the privacy notice gets an Accept button that resumes the draft."""
        chat = draft.chat_id
        ref = Ref(chat, draft.panel, draft.reply_to).dumps()
        try:
            if draft.parent is not None:
                await self.engine.reroll(draft.parent, draft.requester, draft.spec, ref=ref, origin=origin)
            else:
                photo = await asyncio.to_thread(Photo.from_stored, draft.photo or b"")
                spec = draft.spec or FigureSpec()
                await self.engine.submit(draft.requester, photo, spec, ref=ref, origin=origin)
        except ConsentRequired as notice:
            await self._answer(draft, notice.message, accept_keyboard(draft.id))
            await self.drafts.keep(draft)  # Accept resumes it
            return
        except UserFacingError as error:
            await self._answer(draft, f"⚠️ {error.message}")
        except Exception:  # the draft's panel must not promise a figure that will never come
            log.exception("queueing a figure failed")
            await self._answer(draft, f"⚠️ {BROKEN}")
        await self.drafts.discard(draft)

    async def _answer(self, draft: Draft, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Say ``text`` on the draft's panel, or in a new message answering its photo."""
        if draft.panel is None:
            draft.panel = (await self.messenger.say(draft.chat_id, text, draft.reply_to, keyboard)).message_id
        else:
            await self.messenger.edit(draft.chat_id, draft.panel, text, keyboard)
