"""Jobs and the figures they made: the queue's claims, a job's path to done, and the users' reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from bot.jobs import ACTIVE, Job, Requester, Status, notes_to_json, spec_to_json
from bot.spec import FigureSpec
from bot.store.database import Database, new_id, owned_by
from bot.store.fair_order import NEXT_JOB, QUEUE
from bot.store.photos import RELEASE
from bot.store.tables import challenge_entries, challenge_votes, figures, jobs, photos

# The statements of every job's path, built once: only their parameters change.
_CLAIM = (
    update(jobs)
    .where(jobs.c.id == NEXT_JOB.scalar_subquery(), jobs.c.status == Status.QUEUED)
    .values(status=Status.RUNNING, started_at=bindparam("now"), attempts=jobs.c.attempts + 1)
    .returning(
        *jobs.c,
        select(photos.c.data).where(photos.c.id == jobs.c.photo_id).scalar_subquery().label("sealed_photo"),
    )
)
_FINISH = (
    update(jobs)
    .where(jobs.c.id == bindparam("job_id"), jobs.c.status == Status.RUNNING)
    .values(
        status=Status.DONE,
        figure_id=bindparam("figure_id"),
        finished_at=bindparam("now"),
        cost_usd=bindparam("cost_usd"),
        painted_by=bindparam("painted_by"),
        notes=bindparam("notes"),
    )
)
_DELIVERED = update(jobs).where(jobs.c.id == bindparam("job_id")).values(delivered_at=bindparam("now"))


class JobStore:
    """Every job's row, and its figure sealed by the database's vault."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _jobs(self, query: Any) -> list[Job]:
        return [Job.from_row(row) for row in await self._db.rows(query)]

    async def add(
        self,
        requester: Requester,
        spec: FigureSpec,
        generator: str,
        photo_id: str,
        now: float,
        parent_id: str | None = None,
        ref: str | None = None,
        origin: str | None = None,
    ) -> str:
        job_id = new_id()
        await self._db.execute(
            insert(jobs).values(
                id=job_id,
                platform=requester.platform,
                user_id=requester.user_id,
                chat_id=requester.chat_id,
                guild_id=requester.guild_id,
                photo_id=photo_id,
                parent_id=parent_id,
                spec=spec_to_json(spec),
                generator=generator,
                status=Status.QUEUED,
                attempts=0,
                created_at=now,
                ref=ref,
                origin=origin,
            )
        )
        return job_id

    async def get(self, job_id: str) -> Job | None:
        found = await self._jobs(select(jobs).where(jobs.c.id == job_id))
        return found[0] if found else None

    async def by_origin(self, origin: str) -> Job | None:
        """The job the message ``origin`` asked for, if it was made."""
        found = await self._jobs(select(jobs).where(jobs.c.origin == origin))
        return found[0] if found else None

    async def set_ref(self, job_id: str, ref: str | None) -> None:
        await self._db.execute(update(jobs).where(jobs.c.id == job_id).values(ref=ref))

    async def transition(self, job_id: str, from_statuses: Iterable[Status], **values: Any) -> bool:
        """Change a job only if it is still in one of ``from_statuses``; whether it changed."""
        result = await self._db.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.status.in_(list(from_statuses))).values(**values)
        )
        return result.rowcount == 1

    # The queue

    async def queued_ids(self, now: float) -> list[str]:
        """The queued jobs' ids in the order claims will serve them from ``now``, every generator counted
        as having room."""
        return [row.id for row in await self._db.rows(QUEUE, {"now": now})]

    async def claim_next(self, generators: list[str], now: float) -> tuple[Job, bytes | None] | None:
        """Mark the next job (round-robin, one of ``generators``, startable at ``now``) running.

        Returns the job and its photo, still sealed (``None`` once purged), or ``None`` when nothing can
        start. Opening the photo is left to the caller, where a failure fails the job.
        """
        async with self._db.transaction() as connection:
            row = (await connection.execute(_CLAIM, {"generators": generators, "now": now})).first()
        return (Job.from_row(row), row.sealed_photo) if row else None

    async def requeue(self, job_id: str) -> bool:
        """Put a running job back in the queue without counting the attempt; whether it was running."""
        back = {"status": Status.QUEUED, "started_at": None, "attempts": jobs.c.attempts - 1}
        return await self.transition(job_id, [Status.RUNNING], **back)

    async def recover_running(self, max_attempts: int, reason: str, now: float) -> tuple[int, int]:
        """Jobs that were running when the process died: put back in the queue, or failed with ``reason``
        once they have used every attempt (so a job that kills the process cannot do it forever).
        How many were requeued and how many failed."""
        running = jobs.c.status == Status.RUNNING
        async with self._db.transaction() as connection:
            failed = await connection.execute(
                update(jobs)
                .where(running, jobs.c.attempts >= max_attempts)
                .values(status=Status.FAILED, error=reason, finished_at=now)
            )
            requeued = await connection.execute(
                update(jobs).where(running).values(status=Status.QUEUED, started_at=None)
            )
        return requeued.rowcount, failed.rowcount

    # Finishing and delivering

    async def finish(
        self,
        job: Job,
        data: bytes,
        fmt: str,
        now: float,
        figure_expiry: float | None,
        photo_expiry: float | None,
        cost_usd: float | None = None,
        painted_by: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> Job | None:
        """Store the figure (with the generator's notes), mark the job done and start the photo's
        retention clock, all at once.

        ``None`` (and nothing stored) when the job is no longer running: it was cancelled or forgotten.
        """
        figure_id = new_id()
        sealed = self._db.vault.seal(data)
        owner = job.requester
        async with self._db.transaction() as connection:
            finish = {
                "job_id": job.id,
                "figure_id": figure_id,
                "now": now,
                "cost_usd": cost_usd,
                "painted_by": painted_by,
                "notes": notes_to_json(notes),
            }
            done = await connection.execute(_FINISH, finish)
            if done.rowcount != 1:
                return None
            figure = {
                "id": figure_id,
                "platform": owner.platform,
                "user_id": owner.user_id,
                "job_id": job.id,
                "data": sealed,
                "format": fmt,
                "created_at": now,
                "expires_at": figure_expiry,
            }
            await connection.execute(insert(figures), figure)
            if job.photo_id:
                await connection.execute(RELEASE, {"photo_id": job.photo_id, "expires_at": photo_expiry})
        return replace(
            job,
            status=Status.DONE,
            figure_id=figure_id,
            finished_at=now,
            cost_usd=cost_usd,
            painted_by=painted_by,
            notes=notes,
        )

    async def mark_delivered(self, job_id: str, now: float) -> None:
        await self._db.execute(_DELIVERED, {"job_id": job_id, "now": now})

    async def undelivered(self) -> list[Job]:
        """Finished jobs whose result has not reached the chat yet."""
        return await self._jobs(
            select(jobs)
            .where(jobs.c.status.in_([Status.DONE, Status.FAILED]), jobs.c.delivered_at.is_(None))
            .order_by(jobs.c.finished_at)
        )

    # Reads by owner

    async def count(
        self, platform: str, *, user_id: str | None = None, statuses: Iterable[Status] | None = None
    ) -> int:
        """How many jobs of ``platform`` match: of one user, in some statuses."""
        query = select(func.count()).select_from(jobs).where(jobs.c.platform == platform)
        if user_id is not None:
            query = query.where(jobs.c.user_id == user_id)
        if statuses is not None:
            query = query.where(jobs.c.status.in_(list(statuses)))
        return (await self._db.rows(query))[0][0]

    async def active(self, platform: str, user_id: str) -> list[Job]:
        """The user's waiting and running jobs, oldest first."""
        where = (owned_by(jobs, platform, user_id), jobs.c.status.in_(list(ACTIVE)))
        return await self._jobs(select(jobs).where(*where).order_by(jobs.c.created_at))

    async def in_status(self, platform: str, user_id: str, status: Status) -> list[Job]:
        """The user's jobs in ``status``, newest first."""
        where = (owned_by(jobs, platform, user_id), jobs.c.status == status)
        return await self._jobs(select(jobs).where(*where).order_by(jobs.c.created_at.desc()))

    async def latest(self, platform: str, user_id: str) -> Job | None:
        query = select(jobs).where(owned_by(jobs, platform, user_id))
        found = await self._jobs(query.order_by(jobs.c.created_at.desc()).limit(1))
        return found[0] if found else None

    # Figures

    async def figure(self, figure_id: str) -> tuple[bytes, str] | None:
        """A figure's image and format, opened; ``None`` once it expired."""
        rows = await self._db.rows(select(figures.c.data, figures.c.format).where(figures.c.id == figure_id))
        return (self._db.vault.open(rows[0].data), rows[0].format) if rows else None

    async def delete_figure(self, figure_id: str) -> None:
        await self._db.execute(delete(figures).where(figures.c.id == figure_id))

    async def delete_finished(self, job: Job) -> bool:
        """Delete a finished job, its figure and the copies entered in challenges (with their votes) at
        once; whether the job was there (and finished)."""
        async with self._db.transaction() as connection:
            gone = await connection.execute(
                delete(jobs).where(jobs.c.id == job.id, jobs.c.status.not_in(list(ACTIVE)))
            )
            if gone.rowcount:
                if job.figure_id:
                    await connection.execute(delete(figures).where(figures.c.id == job.figure_id))
                copies = challenge_entries.c.job_id == job.id
                votes_on_them = challenge_votes.c.entry_id.in_(select(challenge_entries.c.id).where(copies))
                await connection.execute(delete(challenge_votes).where(votes_on_them))
                await connection.execute(delete(challenge_entries).where(copies))
        return bool(gone.rowcount)
