"""What a theme challenge is made of: its phases, the challenge, entries, placings (and how entries are
ranked into them), standings and the events adapters announce. The store returns these; the challenge
service and the adapters use them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.themes import find_theme


class Phase(StrEnum):
    SUBMISSIONS = "submissions"
    VOTING = "voting"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_PHASES = (Phase.SUBMISSIONS, Phase.VOTING)  # a chat has at most one challenge in these
POINTS = {1: 3, 2: 2, 3: 1}  # leaderboard points for a place with at least one vote


@dataclass(frozen=True)
class Challenge:
    id: str
    platform: str
    chat_id: str
    guild_id: str | None
    theme: str
    created_by: str | None
    phase: Phase
    submit_until: float
    vote_for: float
    vote_until: float | None
    entries_per_user: int
    votes_per_voter: int
    created_at: float
    closed_at: float | None
    announced: Phase | None = None  # the last phase whose announcement reached the chat

    @classmethod
    def from_row(cls, row: Any) -> Challenge:
        """A challenge from a ``challenges`` table row."""
        values = {name: getattr(row, name) for name in cls.__dataclass_fields__}
        announced = Phase(row.announced) if row.announced else None
        return cls(**{**values, "phase": Phase(row.phase), "announced": announced})

    @property
    def deadline(self) -> float | None:
        """When the current phase ends."""
        return {Phase.SUBMISSIONS: self.submit_until, Phase.VOTING: self.vote_until}.get(self.phase)

    @property
    def theme_name(self) -> str:
        return find_theme(self.theme).name


@dataclass(frozen=True)
class Entry:
    id: str
    user_id: str
    job_id: str
    number: int
    format: str
    platform: str

    @classmethod
    def from_row(cls, row: Any) -> Entry:
        """An entry from a ``challenge_entries`` table row (its image is read apart)."""
        return cls(row.id, row.user_id, row.job_id, row.number, row.format, row.platform)

    def is_of(self, platform: str, user_id: str) -> bool:
        """Whether the entry was sent by this user."""
        return (self.platform, self.user_id) == (platform, user_id)


@dataclass(frozen=True)
class Placing:
    place: int  # ties share a place: 1, 1, 3
    entry: Entry
    votes: int


class ChallengeEventKind(StrEnum):
    VOTING = "voting"  # entries are shown for voting
    CLOSED = "closed"  # results, winners named, the shelf picture
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ChallengeEvent:
    """A phase change for the chat's adapter to announce."""

    kind: ChallengeEventKind
    challenge: Challenge
    entries: tuple[Entry, ...] = ()
    images: dict[str, bytes] = field(default_factory=dict, repr=False)  # entry id → figure, for voting
    results: tuple[Placing, ...] = ()
    shelf: bytes | None = field(default=None, repr=False)  # PNG of the top boxes on a shelf


@dataclass(frozen=True)
class Standing:
    user_id: str
    points: int
    wins: int


def rank(entries: list[Entry], tallies: dict[str, int]) -> list[Placing]:
    """Entries by votes, most first; equal votes share a place (1, 1, 3), earlier entries listed first."""
    ordered = sorted(entries, key=lambda entry: (-tallies.get(entry.id, 0), entry.number))
    placings = []
    for index, entry in enumerate(ordered):
        votes = tallies.get(entry.id, 0)
        tied = placings and placings[-1].votes == votes
        placings.append(Placing(placings[-1].place if tied else index + 1, entry, votes))
    return placings
