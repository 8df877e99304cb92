"""Inline keyboards and their callback data: an action and an id, both checked again when pressed.

Callback data is ``action:target``, or ``action:target:detail`` where the detail is a theme (theme
buttons) or an entry number (vote buttons); at most 64 bytes, Telegram's limit. The target is a job id,
a draft id, a user id or a challenge id; it grants nothing by itself: the handler looks it up and checks
that whoever pressed the button may use it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.errors import UserFacingError
from bot.themes import catalog

CALLBACK_LIMIT = 64
SURPRISE = "*"
NOT_MINE = "That button is not one of mine."
VOTES_PER_ROW = 4


class Action(StrEnum):
    REROLL = "rr"  # rr:JOB  another figure from the same photo
    THEMES = "th"  # th:JOB  show the themes for another figure of JOB
    RETHEME = "rt"  # rt:JOB:THEME  another figure of JOB in THEME
    BACK = "bk"  # bk:JOB  the figure's own buttons again
    DELETE = "dl"  # dl:JOB  delete the figure's message
    ENTER = "en"  # en:JOB  enter the figure in the chat's open challenge
    PICK = "pk"  # pk:DRAFT:THEME  the theme of a photo sent without a caption (THEME may be *)
    SKIP_NAME = "nm"  # nm:DRAFT  no name typed: use the sender's first name
    ACCEPT = "ok"  # ok:DRAFT  accept the privacy notice and go on with the draft (ok:- : just accept)
    FORGET = "fg"  # fg:USER  yes, delete everything about me
    KEEP = "kp"  # kp:USER  no, keep it
    VOTE = "vt"  # vt:CHALLENGE:NUMBER  a vote for entry NUMBER of the challenge


_ACTIONS = {action.value: action for action in Action}
_DATA = re.compile(r"([a-z]{2}):([0-9A-Za-z_-]{1,32})(?::(.+))?", re.DOTALL)
_THEME = re.compile(r"[a-z0-9-]{1,40}|\*")
_DETAILS = {Action.RETHEME: _THEME, Action.PICK: _THEME, Action.VOTE: re.compile(r"[1-9][0-9]{0,3}")}


@dataclass(frozen=True)
class Press:
    """A pressed button, decoded: what to do, to what, and the theme (theme buttons) or the entry
    number (vote buttons)."""

    action: Action
    target: str
    theme: str | None = None
    number: int = 0


def callback(action: Action, target: str, detail: str | None = None) -> str:
    data = f"{action}:{target}" if detail is None else f"{action}:{target}:{detail}"
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {data!r}")
    return data


def decode(data: object) -> Press:
    """The press that ``data`` encodes; anything this module did not make is refused with NOT_MINE."""
    match = _DATA.fullmatch(data) if isinstance(data, str) else None
    action = _ACTIONS.get(match[1]) if match else None
    if match is None or action is None:
        raise UserFacingError(NOT_MINE)
    target, detail, form = match[2], match[3], _DETAILS.get(action)
    if form is None and detail is None:
        return Press(action, target)
    if form is None or detail is None or not form.fullmatch(detail):
        raise UserFacingError(NOT_MINE)
    if action is Action.VOTE:
        return Press(action, target, number=int(detail))
    return Press(action, target, detail)


def _button(text: str, action: Action, target: str, detail: str | None = None) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=callback(action, target, detail))


def figure_keyboard(job_id: str, challenge: bool = False) -> InlineKeyboardMarkup:
    """Re-roll, Change theme and Delete under a finished figure; Enter challenge while one is open."""
    rows = [
        [_button("🎲 Re-roll", Action.REROLL, job_id), _button("🎨 Change theme", Action.THEMES, job_id)],
        [_button("🗑 Delete", Action.DELETE, job_id)],
    ]
    if challenge:
        rows[1].append(_button("🏆 Enter challenge", Action.ENTER, job_id))
    return InlineKeyboardMarkup(rows)


def theme_keyboard(action: Action, target: str) -> InlineKeyboardMarkup:
    """Every catalog theme, three a row; then "Surprise me" (new photos) or "Back" (a figure's themes)."""
    buttons = [_button(theme.name, action, target, key) for key, theme in catalog().items()]
    rows = [buttons[start : start + 3] for start in range(0, len(buttons), 3)]
    if action is Action.PICK:
        rows.append([_button("🎲 Surprise me", action, target, SURPRISE)])
    else:
        rows.append([_button("↩ Back", Action.BACK, target)])
    return InlineKeyboardMarkup(rows)


def name_keyboard(draft_id: str, first_name: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(f"Use “{first_name}”", Action.SKIP_NAME, draft_id)]])


def accept_keyboard(draft_id: str | None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button("✅ Accept", Action.ACCEPT, draft_id or "-")]])


def forget_keyboard(user_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button("Yes, delete it all", Action.FORGET, user_id),
                _button("No, keep it", Action.KEEP, user_id),
            ]
        ]
    )


def ballot_keyboard(challenge_id: str, numbers: Sequence[int]) -> InlineKeyboardMarkup:
    """A vote button for each entry number, a few a row."""
    buttons = [_button(f"🗳 Entry {number}", Action.VOTE, challenge_id, str(number)) for number in numbers]
    return InlineKeyboardMarkup(
        [buttons[start : start + VOTES_PER_ROW] for start in range(0, len(buttons), VOTES_PER_ROW)]
    )
