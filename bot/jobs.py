"""Who asked, what they asked for, and what happened to it: the vocabulary shared by engine and adapters."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from PIL import Image

from bot.spec import FigureSpec

ID_PATTERN = "[0-9a-f]{16}"
"""Every id the store makes (jobs, photos, figures, challenges; ``bot.store.database.new_id``), as a
regular expression adapters match in button data and commands."""


@dataclass(frozen=True)
class Requester:
    """Who asked: the platform, the user, the chat it came from and (Discord) the guild."""

    platform: str
    user_id: str
    chat_id: str
    guild_id: str | None = None

    @property
    def scope(self) -> str:
        """The chat or guild whose shared quota this request counts against."""
        return self.guild_id or self.chat_id


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = (Status.QUEUED, Status.RUNNING)


def spec_to_json(spec: FigureSpec) -> str:
    return json.dumps(asdict(spec), ensure_ascii=False)


def spec_from_json(text: str) -> FigureSpec:
    """The spec stored as ``text``; fields it predates (``variant``) get their defaults."""
    data: dict[str, Any] = json.loads(text)
    data["accessories"] = tuple(data.get("accessories", ()))
    return FigureSpec(**data)


def notes_to_json(notes: tuple[str, ...]) -> str | None:
    """Notes as stored: a JSON list, or ``None`` for none."""
    return json.dumps(list(notes), ensure_ascii=False) if notes else None


def notes_from_json(text: str | None) -> tuple[str, ...]:
    """Stored notes as a tuple (``()`` for none, as in rows older than notes)."""
    return tuple(json.loads(text)) if text else ()


@dataclass(frozen=True)
class Job:
    """One request's life, as stored."""

    id: str
    requester: Requester
    spec: FigureSpec
    generator: str
    status: Status
    attempts: int
    photo_id: str | None
    parent_id: str | None
    error: str | None
    figure_id: str | None
    created_at: float
    not_before: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    delivered_at: float | None = None
    ref: str | None = None
    cost_usd: float | None = None
    painted_by: str | None = None
    notes: tuple[str, ...] = ()  # what the generator said about the figure, shown to the user with it

    @property
    def painter(self) -> str:
        """The generator that actually painted the figure (a stand-in after a fallback)."""
        return self.painted_by or self.generator

    @classmethod
    def from_row(cls, row: Any) -> Job:
        """A job from a ``jobs`` table row."""
        return cls(
            id=row.id,
            requester=Requester(row.platform, row.user_id, row.chat_id, row.guild_id),
            spec=spec_from_json(row.spec),
            generator=row.generator,
            status=Status(row.status),
            attempts=row.attempts,
            photo_id=row.photo_id,
            parent_id=row.parent_id,
            error=row.error,
            figure_id=row.figure_id,
            created_at=row.created_at,
            not_before=row.not_before,
            started_at=row.started_at,
            finished_at=row.finished_at,
            delivered_at=row.delivered_at,
            ref=row.ref,
            cost_usd=row.cost_usd,
            painted_by=row.painted_by,
            notes=notes_from_json(row.notes),
        )


class EventKind(StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    PROGRESS = "progress"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class JobEvent:
    """Something that happened to a job, for the adapter of its platform to tell the chat."""

    kind: EventKind
    job: Job
    position: int | None = None
    fraction: float | None = None
    stage: str | None = None
    preview: Image.Image | None = field(default=None, repr=False)
    figure: bytes | None = field(default=None, repr=False)
    figure_format: str | None = None
    reason: str | None = None
