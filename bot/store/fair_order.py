"""The one fair order of the queue: claims take jobs in it, and the positions users are shown are read
from it (round robin over requesters, jobs waiting out a backoff last)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select

from bot.jobs import Status
from bot.store.tables import jobs


def _ranked(for_claim: bool) -> Any:
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
    """The order of ``ranked`` (see ``_ranked``): jobs that can start now first, then by turn;
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


_QUEUED = _ranked(for_claim=False)
# The id of every queued job, in served order (parameter ``now``).
QUEUE = select(_QUEUED.c.id).order_by(*_served_order(_QUEUED))
_CLAIMABLE = _ranked(for_claim=True)
# The job to start next: the first in the same order of those that can start (parameters ``generators``,
# ``now``).
NEXT_JOB = select(_CLAIMABLE.c.id).order_by(*_served_order(_CLAIMABLE)).limit(1)
