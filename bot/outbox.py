"""The outbox: events to each platform's handler, every finished job delivered once (again after an
outage or a restart), and painting updates passed on without making the painting wait."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot.errors import PlatformNotReady
from bot.jobs import EventKind, Job, JobEvent, Status
from bot.logs import log_event
from bot.store.repository import Store

log = logging.getLogger("figurebot.engine.outbox")

EventHandler = Callable[[JobEvent], Awaitable[None]]
STATUS_GRACE = 5.0  # seconds a painting update on its way may take before the outcome is told
FIGURE_EXPIRED = "Your figure could not be delivered before it expired; please make it again."


class Outbox:
    """Tells each platform what happened to its jobs.

    Updates (queued, progress, cancelled) are sent once and may be missed; a finished job's outcome is
    marked delivered only after its platform's handler took it, and ``redeliver`` sends it until then.
    """

    def __init__(
        self,
        store: Store,
        on_delivered: Callable[[Job], Awaitable[None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._on_delivered = on_delivered  # e.g. delete what was kept only until the chat had it
        self._clock = clock
        self.subscribers: dict[str, EventHandler] = {}
        self._delivering: set[str] = set()
        self._statuses: dict[str, JobEvent] = {}  # job id → latest painting update not yet sent
        self._status_senders: dict[str, asyncio.Task[None]] = {}

    def subscribe(self, platform: str, handler: EventHandler) -> None:
        """Send the events of ``platform``'s jobs to ``handler`` (one per platform)."""
        self.subscribers[platform] = handler

    async def emit(self, event: JobEvent) -> None:
        """Send an update; one the platform cannot take now is skipped."""
        handler = self.subscribers.get(event.job.requester.platform)
        if handler is None:
            return
        try:
            await handler(event)
        except PlatformNotReady:  # a status update the chat will not miss much
            log.debug("platform not connected; event skipped", extra={"job": event.job.id})
        except Exception:
            log.exception("event handler failed", extra={"job": event.job.id, "event": event.kind.value})

    # Painting updates

    def post_status(self, event: JobEvent) -> None:
        """Tell the chat how a painting goes without making the painting wait for the chat: one sender
        per job passes on the latest update; updates that pile up while the chat is slow are skipped."""
        job_id = event.job.id
        self._statuses[job_id] = event
        if job_id not in self._status_senders:
            self._status_senders[job_id] = asyncio.create_task(self._send_statuses(job_id))

    async def _send_statuses(self, job_id: str) -> None:
        try:
            while (event := self._statuses.pop(job_id, None)) is not None:
                await self.emit(event)
        finally:
            self._status_senders.pop(job_id, None)

    async def settle_statuses(self, job_id: str) -> None:
        """Before the job's outcome is told, the latest update gets a moment to arrive; then it is dropped."""
        sender = self._status_senders.get(job_id)
        if sender is not None:
            finished, _ = await asyncio.wait([sender], timeout=STATUS_GRACE)
            if not finished:
                self._statuses.pop(job_id, None)
                sender.cancel()

    # Outcomes

    async def deliver(self, job_id: str, ready: JobEvent | None = None) -> bool:
        """Hand a finished job to its platform once; mark it delivered only after the handler succeeded.

        ``ready`` is the event when the caller has it in hand; otherwise it is rebuilt from the store.
        """
        if job_id in self._delivering:
            return False
        self._delivering.add(job_id)
        try:
            job = ready.job if ready else await self._store.jobs.get(job_id)
            handler = self.subscribers.get(job.requester.platform) if job else None
            if job is None or handler is None or job.delivered_at is not None:
                return False
            event = ready or await self._final_event(job)
            try:
                await handler(event)
            except PlatformNotReady:
                log.debug("platform not connected; delivery waits", extra={"job": job.id})
                return False
            except Exception:
                log.exception("delivery failed; will retry", extra={"job": job.id})
                return False
            await self._store.jobs.mark_delivered(job.id, self._clock())
            log_event(log, "job.delivered", job=job.id, status=job.status.value)
            await self._on_delivered(job)
            return True
        finally:
            self._delivering.discard(job_id)

    async def _final_event(self, job: Job) -> JobEvent:
        """The done or failed event of a finished job, from the store."""
        if job.status is Status.DONE and job.figure_id:
            stored = await self._store.jobs.figure(job.figure_id)
            if stored is None:  # kept past its retention while undeliverable
                return JobEvent(EventKind.FAILED, job, reason=FIGURE_EXPIRED)
            return JobEvent(EventKind.DONE, job, figure=stored[0], figure_format=stored[1])
        return JobEvent(EventKind.FAILED, job, reason=job.error)

    async def redeliver(self) -> int:
        """Deliver finished jobs that have not reached their chat (after a crash or a platform outage)."""
        delivered = 0
        for job in await self._store.jobs.undelivered():
            delivered += await self.deliver(job.id)
        return delivered
