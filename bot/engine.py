"""The job engine: what the adapters call. It turns requests (submit, re-roll, cancel, delete, forget)
into durable jobs and composes the services that do the rest: ``Admission`` (generators, consent,
limits, quotas, budgets, spend), the ``JobQueue`` the ``Workers`` claim from, the ``Outbox`` (events,
deliver-once), ``Retention`` and the ``ChatSettingsCache``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from bot.admission import Admission, LimitReached, Quota
from bot.chat_settings import ChatSettingsCache
from bot.chats import ChatSettings
from bot.config import Settings
from bot.drafts import Drafts
from bot.errors import UserFacingError
from bot.generators.base import Generator
from bot.inbox import Inbox
from bot.intake import Photo
from bot.jobs import ACTIVE, EventKind, Job, JobEvent, Requester, Status
from bot.logs import log_event
from bot.outbox import FIGURE_EXPIRED, EventHandler, Outbox
from bot.privacy import expired_message
from bot.queue import JobQueue, StoreQueue
from bot.retention import Retention
from bot.spec import FigureSpec
from bot.store.repository import Store
from bot.workers import BROKEN, BUSY, MAX_NOTE_LENGTH, MAX_NOTES, UNAVAILABLE, Workers

__all__ = [  # what callers import from here, wherever it is defined
    "BROKEN",
    "BUSY",
    "FIGURE_EXPIRED",
    "FIGURE_GONE",
    "MAX_NOTES",
    "MAX_NOTE_LENGTH",
    "NOT_YOURS",
    "UNAVAILABLE",
    "FigureGone",
    "JobEngine",
    "JobNotFound",
    "LimitReached",
    "NotYourFigure",
    "Quota",
    "Submitted",
]

log = logging.getLogger("figurebot.engine")


FIGURE_GONE = "That figure is no longer stored: it expired or was deleted."
NOT_YOURS = "Only the person who asked for this figure can use its buttons."


class JobNotFound(UserFacingError):
    """No such job, or not one of the requester's own."""


class FigureGone(UserFacingError):
    """The job behind a button no longer exists (deleted, expired, forgotten)."""

    def __init__(self) -> None:
        super().__init__(FIGURE_GONE)


class NotYourFigure(UserFacingError):
    """Someone pressed a button under another person's figure."""

    def __init__(self) -> None:
        super().__init__(NOT_YOURS)


@dataclass(frozen=True)
class Submitted:
    job_id: str
    position: int


class JobEngine:
    """Turns requests into durable jobs, runs them fairly, and tells each platform what happened."""

    def __init__(
        self,
        store: Store,
        generators: Mapping[str, Generator],
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        queue: JobQueue | None = None,
    ) -> None:
        self._store = store
        self.generators = dict(generators)
        self.settings = settings
        self.clock = clock
        self.queue: JobQueue = queue or StoreQueue(store)
        self.chats = ChatSettingsCache(store)
        self.admission = Admission(store, self.generators, settings, self.chats, clock)
        self.retention = Retention(store, settings, self.chats, clock)
        self.outbox = Outbox(store, self.retention.after_delivery, clock)
        self.inbox = Inbox(store, clock)
        self.drafts = Drafts(store, clock)
        self.workers = Workers(
            store, self.queue, self.generators, settings, self.admission, self.outbox, self.retention, clock
        )
        self._maintenance: asyncio.Task[None] | None = None
        self._stopping = False

    # Lifecycle

    def subscribe(self, platform: str, handler: EventHandler) -> None:
        """Send the events of ``platform``'s jobs to ``handler`` (one per platform)."""
        self.outbox.subscribe(platform, handler)

    @property
    def _subscribers(self) -> dict[str, EventHandler]:
        """The handlers by platform (read by tests that wrap one)."""
        return self.outbox.subscribers

    async def start(self) -> None:
        """Recover from a previous run, then start the workers and the maintenance loop."""
        requeued, failed = await self.queue.recover(self.settings.max_attempts, BROKEN, self.clock())
        if requeued or failed:
            log_event(log, "jobs.recovered", requeued=requeued, failed=failed)
        await self.purge()
        await self.redeliver()
        self._stopping = False
        self.workers.start()
        self._maintenance = asyncio.create_task(self._maintain())
        self.workers.wake()

    async def stop(self, grace: float | None = None) -> None:
        """Stop taking work, let running jobs finish for ``grace`` seconds, put the rest back in the queue."""
        self._stopping = True
        await self.workers.stop(self.settings.shutdown_grace if grace is None else grace)
        if self._maintenance:
            self._maintenance.cancel()
            await asyncio.gather(self._maintenance, return_exceptions=True)
        self._maintenance = None

    # The services, for the adapters

    def generator_for(self, name: str | None) -> tuple[str, Generator]:
        """The generator called ``name`` (the configured default for ``None``)."""
        return self.admission.generator_for(name)

    async def generator_in(self, requester: Requester, name: str | None = None) -> tuple[str, Generator]:
        """The generator for a request from ``requester``'s chat (see ``Admission.generator_in``)."""
        return await self.admission.generator_in(requester, name)

    def own_machine_painters(self) -> list[str]:
        """The generators a chat that keeps photos on this bot's own machines may use."""
        return self.admission.own_machine_painters()

    async def chat_settings(self, requester: Requester) -> ChatSettings:
        """What the admins of ``requester``'s chat (or server) set."""
        return await self.chats.get(requester)

    async def move_chat_settings(self, platform: str, old_scope: str, new_scope: str) -> None:
        """A chat got a new id: its settings follow it."""
        await self.chats.move(platform, old_scope, new_scope)

    async def update_chat_settings(self, requester: Requester, **changes: object) -> ChatSettings:
        """Change settings of ``requester``'s chat (the adapter checks that they may); the new settings."""
        return await self.chats.update(requester, **changes)

    async def accept_privacy(self, requester: Requester) -> None:
        """Record that the user accepted the current privacy notice."""
        await self.admission.accept_privacy(requester)

    async def quota(self, requester: Requester) -> Quota:
        """Today's figures, limits and budget for ``requester`` with the generator their chat uses."""
        return await self.admission.quota(requester)

    async def position(self, job_id: str) -> int | None:
        """1 for the next job to start; ``None`` when the job is not waiting."""
        return await self.queue.position(job_id, self.clock())

    async def redeliver(self) -> int:
        """Deliver finished jobs that have not reached their chat (after a crash or a platform outage)."""
        return await self.outbox.redeliver()

    async def purge(self) -> dict[str, int]:
        """Delete photos, figures and drafts past their retention, old finished jobs, old usage counts,
        and the inbox's keys once no platform redelivers them."""
        counts = await self.retention.purge()
        return {**counts, "inbox": await self.inbox.purge()}

    # Requests

    async def submit(
        self,
        requester: Requester,
        photo: Photo,
        spec: FigureSpec,
        generator: str | None = None,
        ref: str | None = None,
        origin: str | None = None,
    ) -> Submitted:
        """Queue a figure of ``photo``; its id and queue position. Raises a user-facing error when refused.

        ``ref`` is the platform's note about the job (where its status message is), given back in events.
        ``origin`` names the message that asked (``platform:id``): a message handled again after a crash
        gets the job it made the first time, not a second one."""
        if (made := await self._made_by(origin)) is not None:
            return made
        name, chosen = await self.admission.consented_generator(requester, generator)
        data = await asyncio.to_thread(photo.encode, "JPEG")
        async with self.admission.admitting():  # checking the limits and counting the job are one step
            await self.admission.check_limits(requester, name, chosen)
            photo_id = await self._store.photos.add(requester.platform, requester.user_id, data, self.clock())
            job_id = await self._add_job(requester, spec, name, photo_id, ref=ref, origin=origin)
        return await self._announce(job_id)

    async def reroll(
        self,
        job_id: str,
        requester: Requester,
        spec: FigureSpec | None = None,
        ref: str | None = None,
        origin: str | None = None,
    ) -> Submitted:
        """Make another figure from the photo of ``job_id`` (same spec unless a new one is given). It is the
        photo's next variant, one more than any figure made from it so far, so each re-roll (or change of
        theme) is a different take. ``origin`` as for ``submit``."""
        if (made := await self._made_by(origin)) is not None:
            return made
        job = await self.own_job(job_id, requester)
        name, chosen = await self.admission.consented_generator(requester, job.generator)
        async with self.admission.admitting():
            variant = await self._store.photos.next_variant(job.photo_id) if job.photo_id else None
            if job.photo_id is None or variant is None:
                raise UserFacingError(expired_message(self.settings))
            await self.admission.check_limits(requester, name, chosen)
            # The new job exists before the photo is held, so a sibling finishing in between
            # cannot start the photo's retention clock.
            new_spec = replace(spec or job.spec, variant=variant)
            new_id = await self._add_job(requester, new_spec, name, job.photo_id, job.id, ref, origin)
            await self._store.photos.keep(job.photo_id)
        return await self._announce(new_id)

    async def _made_by(self, origin: str | None) -> Submitted | None:
        """The job ``origin`` asked for before, if it was made."""
        made = await self._store.jobs.by_origin(origin) if origin is not None else None
        return Submitted(made.id, await self.position(made.id) or 0) if made else None

    async def _add_job(
        self,
        requester: Requester,
        spec: FigureSpec,
        generator: str,
        photo_id: str,
        parent_id: str | None = None,
        ref: str | None = None,
        origin: str | None = None,
    ) -> str:
        """Count the job against today's quotas and store it: counted first, so a job that can be seen
        (in ``/quota``'s figures in the works) is always in the day's count too."""
        now = self.clock()
        await self.admission.count(requester, generator, now)
        return await self._store.jobs.add(requester, spec, generator, photo_id, now, parent_id, ref, origin)

    async def _announce(self, job_id: str) -> Submitted:
        """Tell the platform a job is queued, wake a worker, and report the job's place."""
        position = await self.position(job_id) or 1
        job = await self._store.jobs.get(job_id)
        if job is not None:
            log_event(
                log,
                "job.queued",
                job=job_id,
                platform=job.requester.platform,
                generator=job.generator,
                position=position,
            )
            await self.outbox.emit(JobEvent(EventKind.QUEUED, job, position=position))
        self.workers.wake()
        return Submitted(job_id, position)

    async def own_job(self, job_id: str, requester: Requester) -> Job:
        """The job if it exists and belongs to ``requester``; otherwise a user-facing error."""
        job = await self._store.jobs.get(job_id)
        if job is None or (job.requester.platform, job.requester.user_id) != (
            requester.platform,
            requester.user_id,
        ):
            raise JobNotFound("I can't find that figure among yours.")
        return job

    async def figure_for(self, requester: Requester, job_id: str) -> Job:
        """The job behind a button pressed by ``requester``: ``FigureGone`` when it no longer exists (or is
        another platform's), ``NotYourFigure`` when someone else asked for it."""
        job = await self._store.jobs.get(job_id)
        if job is None or job.requester.platform != requester.platform:
            raise FigureGone()
        if job.requester.user_id != requester.user_id:
            raise NotYourFigure()
        return job

    async def finished_jobs(self, requester: Requester) -> list[Job]:
        """``requester``'s finished figures, newest first."""
        return await self._store.jobs.in_status(requester.platform, requester.user_id, Status.DONE)

    async def figure_image(self, job: Job) -> tuple[bytes, str] | None:
        """A finished job's figure and its format; ``None`` once it expired or was deleted."""
        return await self._store.jobs.figure(job.figure_id) if job.figure_id else None

    async def exists(self, job_id: str) -> bool:
        """Whether the job is still stored (its owner may have used forget since it was read)."""
        return await self._store.jobs.get(job_id) is not None

    async def active_jobs(self, requester: Requester, here_only: bool = False) -> list[Job]:
        """``requester``'s figures in the works, oldest first; with ``here_only``, those asked for in
        the requester's chat."""
        jobs = await self._store.jobs.active(requester.platform, requester.user_id)
        return [job for job in jobs if job.requester.chat_id == requester.chat_id] if here_only else jobs

    async def latest_job(self, requester: Requester) -> Job | None:
        """``requester``'s most recent figure, finished or not."""
        return await self._store.jobs.latest(requester.platform, requester.user_id)

    async def cancel_latest(self, requester: Requester, here_only: bool = False) -> Job | None:
        """Cancel ``requester``'s newest figure in the works (in their chat, with ``here_only``); the job
        cancelled, or None when there was none."""
        jobs = await self.active_jobs(requester, here_only)
        return await self.cancel(jobs[-1].id, requester) if jobs else None

    async def busy(self, platform: str) -> bool:
        """Whether any of ``platform``'s figures is waiting, painting or not yet delivered."""
        if await self._store.jobs.count(platform, statuses=ACTIVE):
            return True
        return any(job.requester.platform == platform for job in await self._store.jobs.undelivered())

    async def set_ref(self, job_id: str, ref: str | None) -> None:
        """Replace the platform's note about a job."""
        await self._store.jobs.set_ref(job_id, ref)

    async def cancel(self, job_id: str, requester: Requester) -> Job:
        """Cancel a queued or running job of ``requester``; the job as it was. Finished jobs stay."""
        job = await self.own_job(job_id, requester)
        now = self.clock()
        if not await self._store.jobs.transition(job.id, ACTIVE, status=Status.CANCELLED, finished_at=now):
            raise UserFacingError("That figure is already finished, so there is nothing to cancel.")
        self.workers.cancel(job.id)
        await self.retention.release_photo(job, delete_now=True)
        log_event(log, "job.cancelled", job=job.id)
        await self.outbox.emit(JobEvent(EventKind.CANCELLED, job))
        return job

    async def delete_figure(self, job_id: str, requester: Requester) -> None:
        """Delete one finished figure of ``requester`` and its record (its photo keeps its own clock)."""
        job = await self.own_job(job_id, requester)
        if job.status in ACTIVE:
            raise UserFacingError("That figure is still in the works; cancel it instead.")
        if not await self._store.jobs.delete_finished(job):
            raise JobNotFound("I can't find that figure among yours.")
        log_event(log, "figure.deleted", job=job.id)

    async def forget(self, requester: Requester) -> dict[str, int]:
        """Cancel the user's jobs and delete everything stored about them; counts per kind."""
        counts = await self._store.privacy.forget(requester.platform, requester.user_id)
        self.workers.cancel_jobs_of(requester.platform, requester.user_id)
        log_event(log, "user.forgotten", platform=requester.platform, **counts)
        return counts

    async def _maintain(self) -> None:
        """Retry pending deliveries often; purge expired data every ``PURGE_INTERVAL``."""
        last_purge = self.clock()
        while not self._stopping:
            await asyncio.sleep(min(15.0, self.settings.purge_interval or 15.0))
            try:
                await self.redeliver()
                if self.clock() - last_purge >= self.settings.purge_interval:
                    last_purge = self.clock()
                    await self.purge()
            except Exception:
                log.exception("maintenance failed")
