"""Figures being set up in a chat: a photo waiting for its theme, its name, or the privacy notice's Accept.

Drafts are stored (sealed, like photos) for a few minutes, so a restart in between loses none: the
buttons still work after it. They hold the photo as cleaned JPEG bytes (no metadata), never the upload.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass

from bot.jobs import Requester, spec_from_json, spec_to_json
from bot.spec import FigureSpec
from bot.store.repository import Store

DRAFT_LIFETIME = 15 * 60.0
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

    @property
    def chat_id(self) -> int:
        return int(self.requester.chat_id)

    @property
    def needs_name(self) -> bool:
        return self.spec is not None and not self.spec.name


def _encode(draft: Draft) -> bytes:
    """The draft as bytes: its fields as JSON, a NUL (never in JSON text), then the photo."""
    fields = {name: value for name, value in asdict(draft).items() if name not in ("photo", "spec")}
    fields["spec"] = spec_to_json(draft.spec) if draft.spec is not None else None
    fields["has_photo"] = draft.photo is not None
    return json.dumps(fields).encode() + b"\0" + (draft.photo or b"")


def _decode(data: bytes) -> Draft:
    text, _, photo = data.partition(b"\0")
    fields = json.loads(text)
    stored_spec = fields.pop("spec")
    spec = spec_from_json(stored_spec) if stored_spec is not None else None
    has_photo = fields.pop("has_photo")
    requester = Requester(**fields.pop("requester"))
    return Draft(**fields, requester=requester, spec=spec, photo=photo if has_photo else None)


class Drafts:
    """The open drafts, one per user and chat."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    @staticmethod
    def create(requester: Requester, reply_to: int | None, **fields: object) -> Draft:
        """A new draft for ``requester``, not kept yet."""
        return Draft(secrets.token_hex(6), requester, reply_to, **fields)  # type: ignore[arg-type]

    async def keep(self, draft: Draft) -> None:
        """Store ``draft`` as it is now, until its buttons are pressed or it expires (kept again, its
        clock starts again); it replaces its requester's other draft in that chat."""
        now = self._clock()
        await self._store.drafts.put(draft.id, draft.requester, _encode(draft), now, now + DRAFT_LIFETIME)

    async def get(self, draft_id: str) -> Draft | None:
        data = await self._store.drafts.get(draft_id, self._clock())
        return _decode(data) if data is not None else None

    async def of(self, requester: Requester) -> Draft | None:
        """``requester``'s open draft in their chat, if any."""
        data = await self._store.drafts.of(requester, self._clock())
        return _decode(data) if data is not None else None

    async def discard(self, draft: Draft) -> None:
        await self._store.drafts.delete(draft.id)

    async def drop(self, requester: Requester) -> bool:
        """Forget ``requester``'s open draft in their chat; whether there was one."""
        return await self._store.drafts.delete_of(requester)
