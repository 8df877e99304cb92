"""The tables. Every row holding personal data carries its requester (platform, user_id).

Times are Unix seconds (floats): portable across databases and easy to compare with an injected clock.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

ID = 32
PLATFORM = 16
USER = 64
RECIPIENT = 32


def _requester() -> list[Column]:
    return [
        Column("platform", String(PLATFORM), nullable=False),
        Column("user_id", String(USER), nullable=False),
    ]


photos = Table(
    "photos",
    metadata,
    Column("id", String(ID), primary_key=True),
    *_requester(),
    Column("data", LargeBinary, nullable=False),  # encrypted photo bytes
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),  # null while a job still needs the photo
    Column("last_variant", Integer, nullable=False, default=1),  # the latest take of it: 1, then re-rolls
    Index("ix_photos_owner", "platform", "user_id"),
    Index("ix_photos_expires", "expires_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(ID), primary_key=True),
    *_requester(),
    Column("chat_id", String(USER), nullable=False),
    Column("guild_id", String(USER)),
    Column("photo_id", String(ID)),  # null once the photo has been purged
    Column("parent_id", String(ID)),  # the job this one re-rolls
    Column("spec", Text, nullable=False),  # FigureSpec as JSON
    Column("generator", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # queued, running, done, failed, cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", Float),  # retry backoff: not to be started before this time
    Column("error", Text),  # the reason shown to the user when it failed
    Column("figure_id", String(ID)),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("delivered_at", Float),
    Column("ref", Text),  # the platform's note: where the status message is, which interaction to answer
    Column("cost_usd", Float),  # estimated spend of the generator calls
    Column("painted_by", String(32)),  # the generator that stood in, when it was not ``generator``
    Column("notes", Text),  # what the generator said about the figure for the user, a JSON list
    Column("origin", String(96), unique=True),  # the message that asked for it: one job per message
    Index("ix_jobs_queue", "status", "generator", "platform", "user_id", "created_at"),
    Index("ix_jobs_served", "platform", "user_id", "started_at", "status"),
    Index("ix_jobs_owner", "platform", "user_id", "created_at"),
    Index("ix_jobs_chat", "platform", "chat_id", "created_at"),
)

figures = Table(
    "figures",
    metadata,
    Column("id", String(ID), primary_key=True),
    *_requester(),
    Column("job_id", String(ID), nullable=False),
    Column("data", LargeBinary, nullable=False),  # encrypted image bytes
    Column("format", String(8), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Index("ix_figures_owner", "platform", "user_id"),
    Index("ix_figures_expires", "expires_at"),
)

consents = Table(  # one row per service the user agreed to send photos to (a generator's name)
    "consents",
    metadata,
    *_requester(),
    Column("recipient", String(RECIPIENT), nullable=False),
    Column("version", Integer, nullable=False),
    Column("accepted_at", Float, nullable=False),
    PrimaryKeyConstraint("platform", "user_id", "recipient"),
)

# Figures made per UTC day, for quotas. Keyed by a keyed hash of the user or chat, not the id itself,
# so forgetting a user leaves the day's count (no one can reset a quota by /forget) but nothing that
# names them; rows older than two days are purged.
usage = Table(
    "usage",
    metadata,
    Column("day", String(10), nullable=False),
    Column("platform", String(PLATFORM), nullable=False),
    Column("subject", String(ID), nullable=False),
    Column("generator", String(32), nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("day", "platform", "subject", "generator"),
)

# What an admin set for a chat or server: scope is the chat id, or the guild id on Discord.
chat_settings = Table(
    "chat_settings",
    metadata,
    Column("platform", String(PLATFORM), nullable=False),
    Column("scope", String(USER), nullable=False),
    Column("local_only", Boolean, nullable=False, default=False),
    Column("daily_quota_per_user", Integer),
    Column("photo_retention", Float),
    Column("channels", Text, nullable=False, default=""),  # comma-separated ids; empty: everywhere
    Column("admin_role", String(USER)),
    PrimaryKeyConstraint("platform", "scope"),
)

# Jobs and estimated spend per UTC day, chat and generator, for budgets and `figurebot stats`. The chat is
# a keyed hash (a private chat's id is its user's id): /forget cannot reset a budget; nothing names anyone.
spend = Table(
    "spend",
    metadata,
    Column("day", String(10), nullable=False),
    Column("platform", String(PLATFORM), nullable=False),
    Column("scope", String(ID), nullable=False),
    Column("generator", String(32), nullable=False),
    Column("jobs", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    PrimaryKeyConstraint("day", "platform", "scope", "generator"),
)

# Small facts about the store itself, such as a value sealed with the key it was written with.
meta = Table(
    "meta",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

# Theme challenges: one chat's contest with a theme, its entries (a copy of each entered figure, sealed),
# the votes, and the places given at close (kept for the chat's leaderboard).
challenges = Table(
    "challenges",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("platform", String(PLATFORM), nullable=False),
    Column("chat_id", String(USER), nullable=False),
    Column("guild_id", String(USER)),
    Column("theme", String(64), nullable=False),
    Column("created_by", String(USER)),  # null once its creator used /forget
    Column("phase", String(16), nullable=False),  # submissions, voting, closed, cancelled
    Column("submit_until", Float, nullable=False),
    Column("vote_for", Float, nullable=False),  # seconds of voting, counted from when it opens
    Column("vote_until", Float),
    Column("entries_per_user", Integer, nullable=False),
    Column("votes_per_voter", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("closed_at", Float),
    Column("announced", String(16)),  # the last phase whose announcement reached the chat
    Index("ix_challenges_chat", "platform", "chat_id", "phase"),
)

challenge_entries = Table(
    "challenge_entries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("challenge_id", String(ID), nullable=False),
    *_requester(),
    Column("job_id", String(ID), nullable=False),
    Column("number", Integer, nullable=False),
    Column("image", LargeBinary, nullable=False),  # encrypted figure bytes
    Column("format", String(8), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_entries_challenge", "challenge_id"),
    Index("ix_entries_owner", "platform", "user_id"),
)

challenge_votes = Table(
    "challenge_votes",
    metadata,
    Column("challenge_id", String(ID), nullable=False),
    Column("entry_id", String(ID), nullable=False),
    *_requester(),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("entry_id", "platform", "user_id"),
    Index("ix_votes_challenge", "challenge_id", "platform", "user_id"),
)

challenge_results = Table(
    "challenge_results",
    metadata,
    Column("challenge_id", String(ID), nullable=False),
    Column("entry_id", String(ID), nullable=False),
    *_requester(),
    Column("chat_id", String(USER), nullable=False),
    Column("place", Integer, nullable=False),
    Column("votes", Integer, nullable=False),
    Column("points", Integer, nullable=False),
    PrimaryKeyConstraint("challenge_id", "entry_id"),
    Index("ix_results_chat", "platform", "chat_id"),
)

# What users sent, kept from its arrival until its effect is stored, so a crash loses none of it: the
# platform's update or interaction (sealed), keyed by the platform's own id. Once handled only the key is
# kept, for a day and a bit, so the same update delivered again is recognised and not handled twice.
inbox = Table(
    "inbox",
    metadata,
    Column("platform", String(PLATFORM), nullable=False),
    Column("key", String(64), nullable=False),  # Telegram's update_id, Discord's interaction id
    Column("user_id", String(USER), nullable=False),
    Column("payload", LargeBinary),  # encrypted; null once handled
    Column("received_at", Float, nullable=False),
    Column("handled_at", Float),
    Column("attempts", Integer, nullable=False, default=0),  # times its handling was started
    PrimaryKeyConstraint("platform", "key"),
    Index("ix_inbox_waiting", "platform", "handled_at", "received_at"),
    Index("ix_inbox_owner", "platform", "user_id"),
)

# A figure being set up in a chat (a photo waiting for its theme or name), sealed; short-lived.
drafts = Table(
    "drafts",
    metadata,
    Column("id", String(ID), primary_key=True),
    *_requester(),
    Column("chat_id", String(USER), nullable=False),
    Column("data", LargeBinary, nullable=False),  # encrypted JSON of the draft, photo included
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_drafts_owner", "platform", "user_id", "chat_id"),
    Index("ix_drafts_expires", "expires_at"),
)

PERSONAL_TABLES = (
    photos,
    figures,
    jobs,
    consents,
    challenge_entries,
    challenge_votes,
    challenge_results,
    drafts,
)
