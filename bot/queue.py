"""Where queued jobs wait and workers take them from: the ``JobQueue`` interface and its store-backed
implementation (the jobs table, ranked round robin by the store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.jobs import Job, Status
from bot.store.repository import Store

Claimed = tuple[Job, bytes | None]  # a job marked running, and its sealed photo (``None``: expired)


class JobQueue(Protocol):
    """The claims the engine's workers make. Each call is one step the queue makes atomically, so several
    worker processes may share one queue; ``StoreQueue`` is the embedded one."""

    async def claim(self, generators: Sequence[str], now: float) -> Claimed | None:
        """Mark the next job in fair order, for one of ``generators`` and startable at ``now``, running."""
        ...

    async def release(self, job_id: str) -> bool:
        """Put a running job back as it was, not counting the attempt; whether it was running."""
        ...

    async def retry_after(self, job_id: str, not_before: float) -> bool:
        """Put a running job back to be claimed again from ``not_before``; whether it was running."""
        ...

    async def position(self, job_id: str, now: float) -> int | None:
        """1 for the next job to start, ranked as claims at ``now`` would serve it; ``None`` when the job
        is not waiting."""
        ...

    async def recover(self, max_attempts: int, reason: str, now: float) -> tuple[int, int]:
        """Jobs a dead process left running: put back, or failed with ``reason`` once they used up
        ``max_attempts``; how many of each."""
        ...


class StoreQueue:
    """The queue kept in the store's jobs table, claimed with one conditional update per job."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def claim(self, generators: Sequence[str], now: float) -> Claimed | None:
        return await self._store.jobs.claim_next(list(generators), now)

    async def release(self, job_id: str) -> bool:
        return await self._store.jobs.requeue(job_id)

    async def retry_after(self, job_id: str, not_before: float) -> bool:
        return await self._store.jobs.transition(
            job_id, [Status.RUNNING], status=Status.QUEUED, not_before=not_before, started_at=None
        )

    async def position(self, job_id: str, now: float) -> int | None:
        queued = await self._store.jobs.queued_ids(now)
        return queued.index(job_id) + 1 if job_id in queued else None

    async def recover(self, max_attempts: int, reason: str, now: float) -> tuple[int, int]:
        return await self._store.jobs.recover_running(max_attempts, reason, now)
