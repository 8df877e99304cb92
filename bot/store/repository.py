"""The store: every query figurebot makes, on SQLAlchemy Core (portable SQL), with images encrypted."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.chats import ChatSettings
from bot.errors import ConfigurationError
from bot.jobs import ACTIVE, Job, Requester, Status, notes_to_json, spec_to_json
from bot.jobs import ID_PATTERN as ID_PATTERN  # re-exported beside new_id, which it describes
from bot.privacy import Vault
from bot.spec import FigureSpec
from bot.store.database import create_engine, migrate
from bot.store.tables import (
    PERSONAL_TABLES,
    challenge_entries,
    challenge_votes,
    challenges,
    chat_settings,
    consents,
    figures,
    jobs,
    meta,
    photos,
    spend,
    usage,
)

KEY_CHECK = b"figurebot store key check"


class WrongKey(ConfigurationError):
    """The configured key cannot read this store."""


def new_id() -> str:
    """A short random id: unguessable enough for button data, short enough for 64-byte limits. Adapters
    recognise one by ``ID_PATTERN`` (exported from ``bot.jobs``)."""
    return uuid.uuid4().hex[:16]


def _ranked_queue(for_claim: bool) -> Any:
    """Queued jobs ranked in the one fair order that claims follow and positions report (sort by
    ``_served_order``). Parameter ``now``; for a claim also ``generators``, those with room for a job
    (a position counts every generator as having room).

    Round robin: every requester's next job before anyone's second, so one user's twenty jobs never
    hold up another's one. A requester's running jobs count as turns already taken; within a turn,
    whoever has more running jobs goes first (they joined the round at that turn: the others have just
    been served), then whoever was served least recently, then whoever has the oldest job. So the
    ranking of every job at once is the order in which claims made one after another hand them out,
    as long as nothing finishes meanwhile.

    A job that cannot start now (waiting out a retry backoff, or for a claim, its generator has no
    room) is ranked where it will run: after every job that can start, by when its backoff ends, and
    meanwhile its requester's next job that can start takes its turn. Once its backoff has passed it
    is ranked at its requester's turn again.

    Only a requester's next job that can start can be claimed next, so for a claim only those are
    ranked (turn = running + 1): the same first job as ranking every job, without a window over the
    whole queue on every claim.
    """
    queued = jobs.c.status == Status.QUEUED
    can_start = or_(jobs.c.not_before.is_(None), jobs.c.not_before <= bindparam("now"))
    if for_claim:
        can_start = and_(can_start, jobs.c.generator.in_(bindparam("generators", expanding=True)))
    # Per requester with queued jobs: its first job that can start (else its first queued), how many of
    # its jobs run, and when it was last served (index lookups per requester, not a scan of every job).
    if for_claim:  # only requesters with a job that can start
        first_created, claimable = func.min(jobs.c.created_at), (can_start,)
    else:
        first_created = func.coalesce(
            func.min(case((can_start, jobs.c.created_at))), func.min(jobs.c.created_at)
        )
        claimable = ()
    mine = jobs.alias("mine")
    same_owner = and_(mine.c.platform == jobs.c.platform, mine.c.user_id == jobs.c.user_id)
    requesters = (
        select(
            jobs.c.platform,
            jobs.c.user_id,
            first_created.label("first_created"),
            select(func.count())
            .where(same_owner, mine.c.status == Status.RUNNING)
            .scalar_subquery()
            .label("running"),
            select(func.coalesce(func.max(mine.c.started_at), 0))
            .where(same_owner)
            .scalar_subquery()
            .label("last_started"),
        )
        .where(queued, *claimable)
        .group_by(jobs.c.platform, jobs.c.user_id)
        .subquery()
    )
    if for_claim:
        place, only = 1, (can_start, jobs.c.created_at == requesters.c.first_created)
    else:  # the requester's jobs that can start first, then the oldest first
        waiting_last = case((can_start, 0), else_=1)
        theirs = {
            "partition_by": (jobs.c.platform, jobs.c.user_id),
            "order_by": (waiting_last, jobs.c.created_at, jobs.c.id),
        }
        place, only = func.row_number().over(**theirs), ()
    owner = and_(requesters.c.platform == jobs.c.platform, requesters.c.user_id == jobs.c.user_id)
    return (
        select(
            jobs.c.id,
            jobs.c.generator,
            jobs.c.not_before,
            jobs.c.created_at,
            jobs.c.platform,
            jobs.c.user_id,
            case((can_start, 0), else_=1).label("waiting"),
            case((can_start, 0), else_=func.coalesce(jobs.c.not_before, 0)).label("ready_at"),
            (place + requesters.c.running).label("turn"),
            (-requesters.c.running).label("joined"),
            requesters.c.last_started,
            requesters.c.first_created,
        )
        .select_from(jobs.join(requesters, owner))
        .where(queued, *only)
        .subquery()
    )


def _served_order(ranked: Any) -> tuple[Any, ...]:
    """The order of ``ranked`` (see ``_ranked_queue``): jobs that can start now first, then by turn;
    within a turn, by requester (latest to join the round, least recently served, oldest job first,
    then by name, for a total order)."""
    requester = (
        ranked.c.joined,
        ranked.c.last_started,
        ranked.c.first_created,
        ranked.c.platform,
        ranked.c.user_id,
    )
    return ranked.c.waiting, ranked.c.ready_at, ranked.c.turn, *requester, ranked.c.created_at, ranked.c.id


_QUEUED = _ranked_queue(for_claim=False)
# Positions: every queued job in served order (parameter ``now``).
_QUEUE = select(_QUEUED).order_by(*_served_order(_QUEUED))
# The job to start next: the first in the same order of those that can start (parameters ``generators``,
# ``now``).
_CLAIMABLE = _ranked_queue(for_claim=True)
_NEXT_JOB = select(_CLAIMABLE.c.id).order_by(*_served_order(_CLAIMABLE)).limit(1)
# The statements of every job's path, built once: only their parameters change.
_CLAIM = (
    update(jobs)
    .where(jobs.c.id == _NEXT_JOB.scalar_subquery(), jobs.c.status == Status.QUEUED)
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
# A photo no waiting or running job needs any more (parameter ``photo_id``).
_UNUSED_PHOTO = and_(
    photos.c.id == bindparam("photo_id"),
    ~select(jobs.c.id)
    .where(jobs.c.photo_id == bindparam("photo_id"), jobs.c.status.in_(list(ACTIVE)))
    .exists(),
)
_NEXT_VARIANT = (
    update(photos)
    .where(photos.c.id == bindparam("photo_id"))
    .values(last_variant=photos.c.last_variant + 1)
    .returning(photos.c.last_variant)
)
_RELEASE = update(photos).where(_UNUSED_PHOTO).values(expires_at=bindparam("expires_at"))
_DELETE_UNUSED = delete(photos).where(_UNUSED_PHOTO)
_DELIVERED = update(jobs).where(jobs.c.id == bindparam("job_id")).values(delivered_at=bindparam("now"))


async def _add_spend(
    connection: AsyncConnection, key: tuple[str, str, str, str], jobs_added: int, cost_usd: float
) -> None:
    """Add jobs and cost to the spend row of (day, platform, chat pseudonym, generator)."""
    day, platform, scope, generator = key
    where = and_(
        spend.c.day == day,
        spend.c.platform == platform,
        spend.c.scope == scope,
        spend.c.generator == generator,
    )
    added = {"jobs": spend.c.jobs + jobs_added, "cost_usd": spend.c.cost_usd + cost_usd}
    updated = await connection.execute(update(spend).where(where).values(**added))
    if updated.rowcount == 0:
        row = {"day": day, "platform": platform, "scope": scope, "generator": generator}
        await connection.execute(insert(spend), {**row, "jobs": jobs_added, "cost_usd": cost_usd})


def _owner(table: Any, platform: str, user_id: str) -> Any:
    return and_(table.c.platform == platform, table.c.user_id == user_id)


class Store:
    """Durable state behind the engine. Photos and figures are sealed by the vault before they are written."""

    def __init__(self, engine: AsyncEngine, vault: Vault) -> None:
        self.engine = engine
        self.vault = vault
        self._writing = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. Writers take turns here rather than in SQLite's busy-wait, which sleeps."""
        async with self._writing, self.engine.begin() as connection:
            yield connection

    @classmethod
    async def open(cls, url: str, vault: Vault) -> Store:
        """Connect to ``url``, apply any pending migrations, and check the key opens this store."""
        engine = create_engine(url)
        await migrate(engine)
        store = cls(engine, vault)
        try:
            await store._check_key()
        except Exception:
            await engine.dispose()
            raise
        return store

    async def _check_key(self) -> None:
        """Seal a known value on first use; later, refuse a key that cannot open it."""
        async with self.transaction() as connection:
            sealed = (
                await connection.execute(select(meta.c.value).where(meta.c.key == "key_check"))
            ).scalar()
            if sealed is None:
                await connection.execute(
                    insert(meta).values(key="key_check", value=self.vault.seal(KEY_CHECK))
                )
                return
        try:
            self.vault.open(sealed)
        except ValueError:
            raise WrongKey(
                "FIGUREBOT_SECRET_KEY (or the key file) is not the key this store was written with; "
                "restore the right key, or start with an empty data folder."
            ) from None

    async def close(self) -> None:
        await self.engine.dispose()

    async def execute(self, statement: Any) -> Any:
        async with self.transaction() as connection:
            return await connection.execute(statement)

    async def rows(self, statement: Any, parameters: dict[str, Any] | None = None) -> list[Any]:
        async with self.engine.connect() as connection:
            return list((await connection.execute(statement, parameters)).all())

    # Photos

    async def add_photo(self, platform: str, user_id: str, data: bytes, now: float) -> str:
        photo_id = new_id()
        sealed = self.vault.seal(data)
        await self.execute(
            insert(photos).values(
                id=photo_id, platform=platform, user_id=user_id, data=sealed, created_at=now
            )
        )
        return photo_id

    async def photo_exists(self, photo_id: str) -> bool:
        return bool(await self.rows(select(photos.c.id).where(photos.c.id == photo_id)))

    async def set_photo_expiry(self, photo_id: str, expires_at: float | None) -> None:
        """Keep the photo until ``expires_at`` (``None``: while a job needs it)."""
        await self.execute(update(photos).where(photos.c.id == photo_id).values(expires_at=expires_at))

    async def next_variant(self, photo_id: str) -> int | None:
        """Count one more take of the photo (a re-roll) and return its number, in one step, so no two
        takes share one; ``None`` when the photo is gone."""
        async with self.transaction() as connection:
            return (await connection.execute(_NEXT_VARIANT, {"photo_id": photo_id})).scalar()

    async def delete_unused_photo(self, photo_id: str) -> None:
        """Delete the photo unless a waiting or running job still needs it."""
        async with self.transaction() as connection:
            await connection.execute(_DELETE_UNUSED, {"photo_id": photo_id})

    # Jobs

    async def add_job(
        self,
        requester: Requester,
        spec: FigureSpec,
        generator: str,
        photo_id: str,
        now: float,
        parent_id: str | None = None,
        ref: str | None = None,
    ) -> str:
        job_id = new_id()
        await self.execute(
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
            )
        )
        return job_id

    async def set_ref(self, job_id: str, ref: str | None) -> None:
        await self.execute(update(jobs).where(jobs.c.id == job_id).values(ref=ref))

    async def job(self, job_id: str) -> Job | None:
        rows = await self.rows(select(jobs).where(jobs.c.id == job_id))
        return Job.from_row(rows[0]) if rows else None

    async def requeue(self, job_id: str) -> bool:
        """Put a running job back in the queue without counting the attempt; whether it was running."""
        back = {"status": Status.QUEUED, "started_at": None, "attempts": jobs.c.attempts - 1}
        return await self.transition(job_id, [Status.RUNNING], **back)

    async def transition(self, job_id: str, from_statuses: Iterable[Status], **values: Any) -> bool:
        """Change a job only if it is still in one of ``from_statuses``; whether it changed."""
        result = await self.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.status.in_(list(from_statuses))).values(**values)
        )
        return result.rowcount == 1

    async def queue(self, now: float | None = None) -> list[Any]:
        """Queued jobs (id, generator, not_before) in the order claims will serve them from ``now``
        (the current time by default), every generator counted as having room."""
        return await self.rows(_QUEUE, {"now": time.time() if now is None else now})

    async def claim_next(self, generators: list[str], now: float) -> tuple[Job, bytes | None] | None:
        """Mark the next job (round-robin, one of ``generators``, startable at ``now``) running.

        Returns the job and its photo, still sealed (``None`` once purged), or ``None`` when nothing can
        start. Opening the photo is left to the caller, where a failure fails the job.
        """
        async with self.transaction() as connection:
            row = (await connection.execute(_CLAIM, {"generators": generators, "now": now})).first()
        return (Job.from_row(row), row.sealed_photo) if row else None

    async def finish_job(
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
        sealed = self.vault.seal(data)
        owner = job.requester
        async with self.transaction() as connection:
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
                await connection.execute(_RELEASE, {"photo_id": job.photo_id, "expires_at": photo_expiry})
        return replace(
            job,
            status=Status.DONE,
            figure_id=figure_id,
            finished_at=now,
            cost_usd=cost_usd,
            painted_by=painted_by,
            notes=notes,
        )

    async def release_photo(self, photo_id: str, expires_at: float | None) -> None:
        """Start the photo's retention clock (``expires_at``), unless a waiting job still needs it."""
        async with self.transaction() as connection:
            await connection.execute(_RELEASE, {"photo_id": photo_id, "expires_at": expires_at})

    async def mark_delivered(self, job_id: str, now: float) -> None:
        async with self.transaction() as connection:
            await connection.execute(_DELIVERED, {"job_id": job_id, "now": now})

    async def count_jobs(
        self, platform: str, *, user_id: str | None = None, statuses: Iterable[Status] | None = None
    ) -> int:
        """How many jobs of ``platform`` match: of one user, in some statuses."""
        query = select(func.count()).select_from(jobs).where(jobs.c.platform == platform)
        if user_id is not None:
            query = query.where(jobs.c.user_id == user_id)
        if statuses is not None:
            query = query.where(jobs.c.status.in_(list(statuses)))
        return (await self.rows(query))[0][0]

    async def active_jobs(self, platform: str, user_id: str) -> list[Job]:
        rows = await self.rows(
            select(jobs)
            .where(_owner(jobs, platform, user_id), jobs.c.status.in_(list(ACTIVE)))
            .order_by(jobs.c.created_at)
        )
        return [Job.from_row(row) for row in rows]

    async def jobs_of(self, platform: str, user_id: str, status: Status) -> list[Job]:
        """The user's jobs in ``status``, newest first."""
        query = select(jobs).where(_owner(jobs, platform, user_id), jobs.c.status == status)
        return [Job.from_row(row) for row in await self.rows(query.order_by(jobs.c.created_at.desc()))]

    async def latest_job(self, platform: str, user_id: str) -> Job | None:
        rows = await self.rows(
            select(jobs).where(_owner(jobs, platform, user_id)).order_by(jobs.c.created_at.desc()).limit(1)
        )
        return Job.from_row(rows[0]) if rows else None

    async def recover_running(self, max_attempts: int, reason: str, now: float) -> tuple[int, int]:
        """Jobs that were running when the process died: put back in the queue, or failed with ``reason``
        once they have used every attempt (so a job that kills the process cannot do it forever).
        How many were requeued and how many failed."""
        running = jobs.c.status == Status.RUNNING
        async with self.transaction() as connection:
            failed = await connection.execute(
                update(jobs)
                .where(running, jobs.c.attempts >= max_attempts)
                .values(status=Status.FAILED, error=reason, finished_at=now)
            )
            requeued = await connection.execute(
                update(jobs).where(running).values(status=Status.QUEUED, started_at=None)
            )
        return requeued.rowcount, failed.rowcount

    async def undelivered(self) -> list[Job]:
        """Finished jobs whose result has not reached the chat yet."""
        rows = await self.rows(
            select(jobs)
            .where(jobs.c.status.in_([Status.DONE, Status.FAILED]), jobs.c.delivered_at.is_(None))
            .order_by(jobs.c.finished_at)
        )
        return [Job.from_row(row) for row in rows]

    # Daily usage (quotas)

    async def usage(self, day: str, platform: str, subject: str, generator: str) -> int:
        """Figures counted today for ``subject`` (a pseudonym of a user or a chat)."""
        key = (usage.c.day == day, usage.c.platform == platform, usage.c.subject == subject)
        rows = await self.rows(select(usage.c.count).where(*key, usage.c.generator == generator))
        return rows[0].count if rows else 0

    async def count_job(
        self, day: str, platform: str, subjects: Iterable[str], generator: str, chat: str
    ) -> None:
        """Count a new job in one step: a figure for the quota of each subject (pseudonyms of the user and
        the chat), and a job in the stats of ``chat`` (the chat's pseudonym)."""
        async with self.transaction() as connection:
            await _add_spend(connection, (day, platform, chat, generator), 1, 0.0)
            for subject in subjects:
                key = (usage.c.day == day, usage.c.platform == platform, usage.c.subject == subject)
                where = and_(*key, usage.c.generator == generator)
                updated = await connection.execute(update(usage).where(where).values(count=usage.c.count + 1))
                if updated.rowcount == 0:
                    row = {
                        "day": day,
                        "platform": platform,
                        "subject": subject,
                        "generator": generator,
                        "count": 1,
                    }
                    await connection.execute(insert(usage), row)

    # Spend (budgets and stats)

    async def add_spend(self, day: str, platform: str, scope: str, generator: str, cost_usd: float) -> None:
        """Add estimated cost to a chat's day (``scope`` is a pseudonym of the chat)."""
        async with self.transaction() as connection:
            await _add_spend(connection, (day, platform, scope, generator), 0, cost_usd)

    async def spent(self, day: str, platform: str | None = None, scope: str | None = None) -> float:
        """Estimated USD spent on ``day``: everywhere, or in one chat."""
        query = select(func.coalesce(func.sum(spend.c.cost_usd), 0.0)).where(spend.c.day == day)
        if platform is not None and scope is not None:
            query = query.where(spend.c.platform == platform, spend.c.scope == scope)
        return float((await self.rows(query))[0][0])

    async def spend_rows(self, since_day: str) -> list[Any]:
        """Every spend row from ``since_day`` on, newest day first."""
        query = select(spend).where(spend.c.day >= since_day)
        return await self.rows(query.order_by(spend.c.day.desc(), spend.c.platform, spend.c.scope))

    # Chat settings

    async def chat_settings(self, platform: str, scope: str) -> ChatSettings:
        where = and_(chat_settings.c.platform == platform, chat_settings.c.scope == scope)
        rows = await self.rows(select(chat_settings).where(where))
        return ChatSettings.from_row(rows[0]) if rows else ChatSettings()

    async def move_chat_settings(self, platform: str, old_scope: str, new_scope: str) -> None:
        """A chat got a new id: its settings follow (unless the new id already has its own)."""
        async with self.transaction() as connection:
            taken = and_(chat_settings.c.platform == platform, chat_settings.c.scope == new_scope)
            if not (await connection.execute(select(chat_settings.c.scope).where(taken))).first():
                old = and_(chat_settings.c.platform == platform, chat_settings.c.scope == old_scope)
                await connection.execute(update(chat_settings).where(old).values(scope=new_scope))

    async def save_chat_settings(self, platform: str, scope: str, settings: ChatSettings) -> None:
        where = and_(chat_settings.c.platform == platform, chat_settings.c.scope == scope)
        async with self.transaction() as connection:
            await connection.execute(delete(chat_settings).where(where))
            values = {"platform": platform, "scope": scope, **settings.to_row()}
            await connection.execute(insert(chat_settings), values)

    # Figures

    async def figure(self, figure_id: str) -> tuple[bytes, str] | None:
        rows = await self.rows(select(figures.c.data, figures.c.format).where(figures.c.id == figure_id))
        return (self.vault.open(rows[0].data), rows[0].format) if rows else None

    async def delete_figure(self, figure_id: str) -> None:
        await self.execute(delete(figures).where(figures.c.id == figure_id))

    async def delete_finished_job(self, job: Job) -> bool:
        """Delete a finished job, its figure and the copies entered in challenges (with their votes) at
        once; whether the job was there (and finished)."""
        async with self.transaction() as connection:
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

    # Consent and settings

    async def consent_version(self, platform: str, user_id: str) -> int | None:
        rows = await self.rows(select(consents.c.version).where(_owner(consents, platform, user_id)))
        return rows[0].version if rows else None

    async def accept_consent(self, platform: str, user_id: str, version: int, now: float) -> None:
        async with self.transaction() as connection:
            await connection.execute(delete(consents).where(_owner(consents, platform, user_id)))
            await connection.execute(
                insert(consents).values(platform=platform, user_id=user_id, version=version, accepted_at=now)
            )

    # Privacy

    async def forget(self, platform: str, user_id: str) -> dict[str, int]:
        """Delete every row of the user in every personal table; counts per table."""
        counts = {}
        async with self.transaction() as connection:
            # Votes others gave the user's entries go with them; a challenge they started stays, unnamed.
            theirs = select(challenge_entries.c.id).where(_owner(challenge_entries, platform, user_id))
            await connection.execute(delete(challenge_votes).where(challenge_votes.c.entry_id.in_(theirs)))
            started = and_(challenges.c.platform == platform, challenges.c.created_by == user_id)
            await connection.execute(update(challenges).where(started).values(created_by=None))
            for table in PERSONAL_TABLES:
                result = await connection.execute(delete(table).where(_owner(table, platform, user_id)))
                counts[table.name] = result.rowcount
        await self.checkpoint()
        return counts

    async def purge(
        self, now: float, job_retention: float, oldest_day: str, oldest_spend_day: str
    ) -> dict[str, int]:
        """Delete expired photos and figures, finished jobs older than ``job_retention``, usage counts
        before ``oldest_day`` and spend before ``oldest_spend_day``."""
        async with self.transaction() as connection:
            gone_photos = await connection.execute(
                delete(photos).where(photos.c.expires_at.is_not(None), photos.c.expires_at <= now)
            )
            gone_figures = await connection.execute(
                delete(figures).where(figures.c.expires_at.is_not(None), figures.c.expires_at <= now)
            )
            gone_jobs = await connection.execute(
                delete(jobs).where(
                    jobs.c.status.not_in(list(ACTIVE)),
                    or_(jobs.c.delivered_at.is_not(None), jobs.c.status == Status.CANCELLED),
                    jobs.c.finished_at <= now - job_retention,
                )
            )
            await connection.execute(delete(usage).where(usage.c.day < oldest_day))
            await connection.execute(delete(spend).where(spend.c.day < oldest_spend_day))
        counts = {
            "photos": gone_photos.rowcount,
            "figures": gone_figures.rowcount,
            "jobs": gone_jobs.rowcount,
        }
        if any(counts.values()):
            await self.checkpoint()
        return counts

    async def checkpoint(self) -> None:
        """On SQLite, fold the write-ahead log into the file so deleted pages are overwritten there too."""
        if self.engine.dialect.name == "sqlite":
            async with self.engine.connect() as connection:
                await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
