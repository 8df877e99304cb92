"""Button presses: each is decoded, its job or draft looked up, and refused unless the presser owns it."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace

from telegram import CallbackQuery, InlineKeyboardMarkup, MaybeInaccessibleMessage, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from adapters.challenge_wording import entered_text
from adapters.presses import RecentPresses
from adapters.telegram.chat import Context, Messenger, guarded, requester_of
from adapters.telegram.delivery import Delivery
from adapters.telegram.figures import Figures, name_of
from adapters.telegram.keyboards import SURPRISE, Action, Press, decode, theme_keyboard
from adapters.telegram.pacing import once_more
from adapters.wording import forget_summary
from bot.drafts import EXPIRED, Draft
from bot.engine import NOT_YOURS, JobEngine
from bot.errors import UserFacingError
from bot.jobs import Job, Requester
from bot.logs import log_event
from bot.themes import catalog, find_theme

UNKNOWN_THEME = "I don't know that theme; pick one of the buttons."
ONLY_ASKER = "Only the person who asked can answer that."
ACCEPTED = "Thanks: the privacy notice is accepted."
ACCEPTED_SEND_AGAIN = f"{ACCEPTED} The photo it was asked for has expired: send it again."
KEPT = "OK: nothing was deleted."
DELETED = "Deleted."
DELETED_ONLY_STORED = "Deleted from my storage. Telegram no longer lets me remove this message, though."
DELETED_NOT_REMOVED = "Deleted from my storage. I couldn't remove this message just now, though."
STALE = "That button is not there any more; use the ones shown now."
MAKES_A_JOB = (Action.REROLL, Action.RETHEME)

log = logging.getLogger("figurebot.telegram")

Pressed = Callable[[Press, Requester, CallbackQuery], Awaitable[str | None]]


def offered(message: MaybeInaccessibleMessage, data: str | None) -> bool:
    """Whether ``data`` is that of a button the message shows: no other press is one of ours."""
    markup = getattr(message, "reply_markup", None)
    rows = markup.inline_keyboard if markup is not None else ()
    return any(button.callback_data == data for row in rows for button in row)


def press_origin(query: CallbackQuery) -> str:
    """The ``origin`` of a job a button press asks for."""
    return f"telegram:press:{query.id}"


async def set_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    """Change the buttons under the pressed message; buttons that are already those are fine."""
    try:
        await once_more(lambda: query.edit_message_reply_markup(markup))
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


def chosen_theme(key: str | None) -> str:
    """The catalog key a theme button names; "Surprise me" picks one at random."""
    if key == SURPRISE:
        return random.choice(list(catalog()))
    if key not in catalog():
        raise UserFacingError(UNKNOWN_THEME)
    return key


class Buttons:
    """What each button does; every press is answered, with an alert when it is refused."""

    def __init__(self, engine: JobEngine, figures: Figures, delivery: Delivery, messenger: Messenger) -> None:
        self.engine = engine
        self.figures = figures
        self.delivery = delivery
        self.challenges = delivery.challenges
        self.messenger = messenger
        self._actions: dict[Action, Pressed] = {
            Action.REROLL: self._reroll,
            Action.THEMES: self._show_themes,
            Action.RETHEME: self._retheme,
            Action.BACK: self._back,
            Action.DELETE: self._delete,
            Action.ENTER: self._enter,
            Action.PICK: self._pick,
            Action.SKIP_NAME: self._skip_name,
            Action.ACCEPT: self._accept,
            Action.FORGET: self._forget,
            Action.KEEP: self._keep,
            Action.VOTE: self._vote,
        }
        self._recent = RecentPresses()  # presses that made a job

    @guarded
    async def on_press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        press = decode(query.data)
        if query.message is None:  # a button under a message the bot can no longer reach
            raise UserFacingError(EXPIRED)
        if not offered(query.message, query.data):  # forged, or tapped again after the buttons changed
            raise UserFacingError(STALE)
        presser = requester_of(update)
        said = None
        if not self._double_tap(query.message, press, presser):
            said = await self._actions[press.action](press, presser, query)
        try:  # how a vote went must be read: an alert
            await once_more(lambda: query.answer(said, show_alert=press.action is Action.VOTE))
        except TelegramError as error:  # the press was acted on; only its answer is lost
            log_event(log, "telegram.answer_failed", logging.WARNING, error=error.message)

    def _double_tap(self, message: MaybeInaccessibleMessage, press: Press, presser: Requester) -> bool:
        """Whether this press makes a job that the same person asked for on the same figure moments ago
        (the first tap's job is on its way; a second tap is not a second request)."""
        if press.action not in MAKES_A_JOB:
            return False
        return self._recent.repeated(
            message.chat.id, message.message_id, press.action, press.target, presser.user_id
        )

    async def _own_job(self, job_id: str, presser: Requester) -> Job:
        return await self.engine.figure_for(presser, job_id)

    async def _own_draft(self, draft_id: str, presser: Requester) -> Draft:
        draft = await self.figures.drafts.get(draft_id)
        if draft is None:
            raise UserFacingError(EXPIRED)
        if draft.requester.user_id != presser.user_id:
            raise UserFacingError(NOT_YOURS)
        return draft

    # Under a figure

    async def _reroll(self, press: Press, presser: Requester, query: CallbackQuery) -> str:
        job = await self._own_job(press.target, presser)
        draft = self.figures.drafts.create(presser, query.message.id, parent=job.id)
        await self.figures.launch(draft, press_origin(query))
        return "Another one is on its way."

    async def _show_themes(self, press: Press, presser: Requester, query: CallbackQuery) -> None:
        job = await self._own_job(press.target, presser)
        await set_buttons(query, theme_keyboard(Action.RETHEME, job.id))

    async def _retheme(self, press: Press, presser: Requester, query: CallbackQuery) -> str:
        job = await self._own_job(press.target, presser)
        spec = replace(job.spec, theme=chosen_theme(press.theme))
        await set_buttons(query, await self.delivery.figure_markup(job))
        draft = self.figures.drafts.create(presser, query.message.id, parent=job.id, spec=spec)
        await self.figures.launch(draft, press_origin(query))
        return f"Coming up as {find_theme(spec.theme).name}."

    async def _back(self, press: Press, presser: Requester, query: CallbackQuery) -> None:
        job = await self._own_job(press.target, presser)
        await set_buttons(query, await self.delivery.figure_markup(job))

    async def _delete(self, press: Press, presser: Requester, query: CallbackQuery) -> str:
        """The stored figure and its job go first, then the message (Telegram refuses for old ones)."""
        await self._own_job(press.target, presser)
        await self.engine.delete_figure(press.target, presser)
        chat_id, message_id = query.message.chat.id, query.message.id
        try:
            await once_more(lambda: self.messenger.bot.delete_message(chat_id, message_id))
        except (BadRequest, Forbidden):
            return DELETED_ONLY_STORED
        except TelegramError as error:  # unreachable, or still asking to wait
            log_event(log, "telegram.delete_failed", logging.WARNING, error=error.message)
            return DELETED_NOT_REMOVED
        return DELETED

    async def _enter(self, press: Press, presser: Requester, query: CallbackQuery) -> str:
        job = await self._own_job(press.target, presser)
        return entered_text(*await self.challenges.enter(presser, job.id))

    # Under a challenge's entries

    async def _vote(self, press: Press, presser: Requester, query: CallbackQuery) -> str:
        """The core checks the rest: a challenge of this chat, voting, such an entry, not one's own."""
        return await self.challenges.vote(presser, press.target, press.number)

    # Setting up a figure

    async def _pick(self, press: Press, presser: Requester, query: CallbackQuery) -> None:
        draft = await self._own_draft(press.target, presser)
        if draft.spec is None:  # not a second tap
            await self.figures.ask_name(draft, query.message.id, chosen_theme(press.theme), query.from_user)

    async def _skip_name(self, press: Press, presser: Requester, query: CallbackQuery) -> None:
        draft = await self._own_draft(press.target, presser)
        if draft.spec is not None and draft.needs_name:  # not yet launched by a reply or a double tap
            draft.spec = replace(draft.spec, name=name_of(query.from_user))
            await self.figures.launch(draft, press_origin(query))

    async def _accept(self, press: Press, presser: Requester, query: CallbackQuery) -> str:
        """Record the presser's consent; go on with the photo it was asked for while that is kept."""
        draft = None if press.target == "-" else await self.figures.drafts.get(press.target)
        if draft is not None and draft.requester.user_id != presser.user_id:
            raise UserFacingError(NOT_YOURS)
        await self.engine.accept_privacy(presser)
        if draft is not None:
            await self.figures.launch(draft, press_origin(query))
            return ACCEPTED
        await set_buttons(query, None)
        return ACCEPTED if press.target == "-" else ACCEPTED_SEND_AGAIN

    # Forget me

    async def _forget(self, press: Press, presser: Requester, query: CallbackQuery) -> str:
        if press.target != presser.user_id:
            raise UserFacingError(ONLY_ASKER)
        in_the_works = await self.engine.active_jobs(presser)
        counts = await self.engine.forget(presser)  # drafts included
        await self.messenger.edit(query.message.chat.id, query.message.id, forget_summary(counts))
        await self.delivery.forgotten(in_the_works)
        return "Forgotten."

    async def _keep(self, press: Press, presser: Requester, query: CallbackQuery) -> None:
        if press.target != presser.user_id:
            raise UserFacingError(ONLY_ASKER)
        await self.messenger.edit(query.message.chat.id, query.message.id, KEPT)
