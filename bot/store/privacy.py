"""Consent, forgetting a user, and deleting what has passed its retention."""

from __future__ import annotations

from sqlalchemy import and_, delete, or_, select, update

from bot.jobs import ACTIVE, Status
from bot.store.database import Database, owned_by
from bot.store.tables import (
    PERSONAL_TABLES,
    challenge_entries,
    challenge_votes,
    challenges,
    consents,
    drafts,
    figures,
    inbox,
    jobs,
    photos,
    spend,
    usage,
)

# The user's tables in the order forget deletes from them: a job before its photo and figure, the order in
# which every transaction takes them, so that on Postgres (writers at once) no two wait for each other.
_FORGET_ORDER = (jobs, *(table for table in PERSONAL_TABLES if table is not jobs))


class PrivacyStore:
    """The user's say over their data, and the retention clock."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def consent_version(self, platform: str, user_id: str, recipient: str) -> int | None:
        """The version of ``recipient``'s privacy notice the user accepted, if any."""
        mine = owned_by(consents, platform, user_id) & (consents.c.recipient == recipient)
        rows = await self._db.rows(select(consents.c.version).where(mine))
        return rows[0].version if rows else None

    async def accept_consent(
        self, platform: str, user_id: str, recipient: str, version: int, now: float
    ) -> None:
        """Record that the user accepted ``recipient``'s privacy notice at ``version``."""
        row = {
            "platform": platform,
            "user_id": user_id,
            "recipient": recipient,
            "version": version,
            "accepted_at": now,
        }
        await self._db.execute(self._db.upsert(consents, row))

    async def forget(self, platform: str, user_id: str) -> dict[str, int]:
        """Delete every row of the user in every personal table; counts per table."""
        counts = dict.fromkeys((table.name for table in PERSONAL_TABLES), 0)  # in the order they are told
        async with self._db.transaction() as connection:
            # Votes others gave the user's entries go with them; a challenge they started stays, unnamed.
            theirs = select(challenge_entries.c.id).where(owned_by(challenge_entries, platform, user_id))
            await connection.execute(delete(challenge_votes).where(challenge_votes.c.entry_id.in_(theirs)))
            started = and_(challenges.c.platform == platform, challenges.c.created_by == user_id)
            await connection.execute(update(challenges).where(started).values(created_by=None))
            for table in _FORGET_ORDER:
                result = await connection.execute(delete(table).where(owned_by(table, platform, user_id)))
                counts[table.name] = result.rowcount
            # What they sent that is waiting, and the keys of what was handled (this request among them):
            # deleted too, but bookkeeping, not something to count back to them.
            await connection.execute(delete(inbox).where(owned_by(inbox, platform, user_id)))
        await self._db.checkpoint()
        return counts

    async def purge(
        self, now: float, job_retention: float, oldest_day: str, oldest_spend_day: str
    ) -> dict[str, int]:
        """Delete expired photos, figures and drafts, finished jobs older than ``job_retention``, usage
        counts before ``oldest_day`` and spend before ``oldest_spend_day``."""
        async with self._db.transaction() as connection:  # jobs first: see ``_FORGET_ORDER``
            gone_jobs = await connection.execute(
                delete(jobs).where(
                    jobs.c.status.not_in(list(ACTIVE)),
                    or_(jobs.c.delivered_at.is_not(None), jobs.c.status == Status.CANCELLED),
                    jobs.c.finished_at <= now - job_retention,
                )
            )
            gone_photos = await connection.execute(
                delete(photos).where(photos.c.expires_at.is_not(None), photos.c.expires_at <= now)
            )
            gone_figures = await connection.execute(
                delete(figures).where(figures.c.expires_at.is_not(None), figures.c.expires_at <= now)
            )
            gone_drafts = await connection.execute(delete(drafts).where(drafts.c.expires_at <= now))
            await connection.execute(delete(usage).where(usage.c.day < oldest_day))
            await connection.execute(delete(spend).where(spend.c.day < oldest_spend_day))
        counts = {
            "photos": gone_photos.rowcount,
            "figures": gone_figures.rowcount,
            "jobs": gone_jobs.rowcount,
            "drafts": gone_drafts.rowcount,
        }
        if any(counts.values()):
            await self._db.checkpoint()
        return counts
