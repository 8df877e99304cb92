"""Figures being set up in a chat: a photo waiting for its theme, its name, or the privacy notice's Accept.

Drafts live in memory for a few minutes only; after a restart their buttons say they expired and the
photo is simply sent again. They hold the photo as cleaned JPEG bytes (no metadata), never the upload.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from bot.jobs import Requester
from bot.spec import FigureSpec

DRAFT_LIFETIME = 15 * 60.0
MAX_DRAFTS = 64  # each holds a photo (a few hundred KB to 2 MB)
EXPIRED = "Those buttons have expired; send the photo again."


@dataclass
class Draft:
    """What is known so far about a figure someone is asking for.

    Either ``photo`` (a new figure) or ``parent`` (the job it re-rolls) is set. ``spec`` is ``None``
    until a theme is picked; its name is empty until given. ``panel`` is the bot's message with the
    draft's buttons, which becomes the job's status message; ``asked`` the question for the name."""

    id: str
    requester: Requester
    reply_to: int | None
    photo: bytes | None = None
    parent: str | None = None
    spec: FigureSpec | None = None
    panel: int | None = None
    asked: int | None = None
    created: float = 0.0

    @property
    def chat_id(self) -> int:
        return int(self.requester.chat_id)

    @property
    def needs_name(self) -> bool:
        return self.spec is not None and not self.spec.name


class Drafts:
    """The open drafts, one per user and chat; the oldest go first when there are too many."""

    def __init__(self) -> None:
        self._drafts: dict[str, Draft] = {}  # oldest first

    def create(self, requester: Requester, reply_to: int | None, **fields: object) -> Draft:
        """A new draft for ``requester``, not kept yet: most are launched at once."""
        return Draft(secrets.token_hex(6), requester, reply_to, created=time.monotonic(), **fields)

    def keep(self, draft: Draft) -> None:
        """Keep ``draft`` until its buttons are pressed; it replaces its requester's other open draft."""
        other = self.of(draft.requester)
        if other is not None and other is not draft:
            self.discard(other)
        self._drafts[draft.id] = draft
        for oldest in list(self._drafts.values()):  # oldest first: drop the expired and the surplus
            if len(self._drafts) <= MAX_DRAFTS and not self._expired(oldest):
                break
            del self._drafts[oldest.id]

    @staticmethod
    def _expired(draft: Draft) -> bool:
        return time.monotonic() - draft.created > DRAFT_LIFETIME

    def get(self, draft_id: str) -> Draft | None:
        draft = self._drafts.get(draft_id)
        if draft is not None and self._expired(draft):
            del self._drafts[draft_id]
            return None
        return draft

    def of(self, requester: Requester) -> Draft | None:
        """``requester``'s open draft in their chat, if any."""
        for draft in list(self._drafts.values()):
            if draft.requester == requester:
                return self.get(draft.id)
        return None

    def discard(self, draft: Draft) -> None:
        self._drafts.pop(draft.id, None)

    def drop(self, requester: Requester) -> bool:
        """Forget ``requester``'s open draft in their chat; whether there was one."""
        draft = self.of(requester)
        if draft is not None:
            self.discard(draft)
        return draft is not None

    def drop_user(self, platform: str, user_id: str) -> None:
        """Forget every draft of a user, in every chat (for /forget)."""
        for draft in list(self._drafts.values()):
            if (draft.requester.platform, draft.requester.user_id) == (platform, user_id):
                self.discard(draft)
