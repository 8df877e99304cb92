"""The workers: claim queued jobs fairly, paint them with their generator, and settle each outcome
(done, retried after a transient error, failed with a message for the user, or put back)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from bot.admission import Admission
from bot.config import Settings
from bot.errors import UserFacingError
from bot.generators.base import (
    BadInput,
    Generator,
    GeneratorError,
    Misconfigured,
    Painted,
    Progress,
    Refused,
    Transient,
    as_painted,
)
from bot.intake import Photo
from bot.jobs import EventKind, Job, JobEvent, Status
from bot.logs import log_event
from bot.outbox import Outbox
from bot.output import encode_figure
from bot.privacy import expired_message
from bot.queue import Claimed, JobQueue
from bot.retention import Retention
from bot.retries import retry_delay
from bot.store.repository import Store

log = logging.getLogger("figurebot.engine.workers")

UNAVAILABLE = (
    "The figure service is unavailable right now; the bot's operator has been told. Please try later."
)
BUSY = "The figure service is too busy right now; please try again in a few minutes."
BROKEN = "Something went wrong while making your figure; please try again."
TOO_SLOW = "Making your figure took too long."
MAX_NOTES, MAX_NOTE_LENGTH = 4, 160  # a generator's notes kept with a figure


def _shown_notes(notes: tuple[str, ...]) -> tuple[str, ...]:
    """A generator's notes cut to what every chat can show with a figure (Telegram captions hold 1024
    characters): ``MAX_NOTES`` of at most ``MAX_NOTE_LENGTH`` characters, blank ones left out."""
    kept = (" ".join(note.split()) for note in notes)
    return tuple(
        note if len(note) <= MAX_NOTE_LENGTH else note[: MAX_NOTE_LENGTH - 1] + "…" for note in kept if note
    )[:MAX_NOTES]


class Workers:
    """``worker_concurrency`` workers taking jobs from the queue in this process. A generator paints
    ``concurrency`` figures at once; one more job per slot may be claimed and prepared (photo decoded)
    meanwhile, so a slot never idles while the queue is asked for work."""

    def __init__(
        self,
        store: Store,
        queue: JobQueue,
        generators: Mapping[str, Generator],
        settings: Settings,
        admission: Admission,
        outbox: Outbox,
        retention: Retention,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._queue = queue
        self._generators = generators
        self._settings = settings
        self._admission = admission
        self._outbox = outbox
        self._retention = retention
        self._clock = clock
        self._painting = {name: asyncio.Semaphore(self._concurrency(name)) for name in generators}
        self._claimed = dict.fromkeys(generators, 0)
        self._claim_lock = asyncio.Lock()
        self._work = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[Painted]] = {}
        self._running: dict[str, Job] = {}
        self._cancelled: set[str] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._stopping = False

    def _concurrency(self, name: str) -> int:
        own = self._generators[name].concurrency
        return own or (
            self._settings.local_concurrency if name == "local" else self._settings.worker_concurrency
        )

    def start(self) -> None:
        """Start the workers."""
        self._stopping = False
        self._workers = [
            asyncio.create_task(self._worker()) for _ in range(self._settings.worker_concurrency)
        ]

    async def stop(self, grace: float) -> None:
        """Stop claiming, let paintings finish for ``grace`` seconds, put the rest back in the queue."""
        self._stopping = True
        self._work.set()
        running = list(self._tasks.values())
        if running:
            await asyncio.wait(running, timeout=grace)
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    def wake(self) -> None:
        """There may be work: a job was queued, or a painting slot came free."""
        self._work.set()

    def cancel(self, job_id: str) -> None:
        """Stop the job's painting, if it is under way, without putting it back in the queue."""
        task = self._tasks.get(job_id)
        if task is not None:
            self._cancelled.add(job_id)
            task.cancel()

    def cancel_jobs_of(self, platform: str, user_id: str) -> None:
        """Stop the paintings of one user's jobs (claimed before or during their deletion)."""
        for job in list(self._running.values()):
            if (job.requester.platform, job.requester.user_id) == (platform, user_id):
                self.cancel(job.id)

    async def _worker(self) -> None:
        while not self._stopping:
            try:
                claimed = await self._claim()
                if claimed is not None:
                    running = self._run(*claimed)
                    claimed = None  # the sealed photo should live only as long as the job needs it
                    await running
                    continue
            except Exception:  # a store hiccup must not end the worker; the job stays in the store
                log.exception("worker step failed")
            self._work.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):  # also wakes for retries whose backoff has passed
                    await self._work.wait()

    async def _claim(self) -> Claimed | None:
        """Take the next job in fair order whose generator has room (and its photo); mark it running."""
        async with self._claim_lock:
            free = [name for name, count in self._claimed.items() if count < 2 * self._concurrency(name)]
            if self._stopping or not free:
                return None
            claimed = await self._queue.claim(free, self._clock())
            if claimed is not None:
                self._claimed[claimed[0].generator] += 1
            return claimed

    async def _run(self, job: Job, sealed_photo: bytes | None) -> None:
        if self._stopping:  # claimed while shutting down: leave it for the next start
            await self._requeue(job)
            self._claimed[job.generator] -= 1
            return
        task = asyncio.create_task(self._generate(job, sealed_photo))
        del sealed_photo
        self._tasks[job.id] = task
        self._running[job.id] = job
        painted: Painted | None = None
        try:
            painted = await task
        except asyncio.CancelledError:
            await self._interrupted(job)
            return
        except Transient as error:
            await self._retry_or_fail(job, error)
            return
        except TimeoutError:
            await self._retry_or_fail(job, Transient(TOO_SLOW))
            return
        except Misconfigured as error:
            log.error(
                "generator misconfigured: %s",
                error.message,
                extra={"job": job.id, "generator": job.generator},
            )
            await self._fail(job, UNAVAILABLE)
            return
        except (Refused, BadInput, UserFacingError) as error:
            await self._fail(job, error.message)
            return
        except Exception:
            log.exception("job crashed", extra={"job": job.id})
            await self._fail(job, BROKEN)
            return
        finally:
            self._tasks.pop(job.id, None)
            self._running.pop(job.id, None)
            self._cancelled.discard(job.id)
            self._claimed[job.generator] -= 1
            self._work.set()
            await self._admission.settle_spend(job, painted)
        try:
            await self._finish(job, painted)
        except Exception:
            log.exception("storing a figure failed", extra={"job": job.id})
            await self._fail(job, BROKEN)

    async def _generate(self, job: Job, sealed_photo: bytes | None) -> Painted:
        if sealed_photo is None:
            raise UserFacingError(expired_message(self._settings))
        data = self._store.db.vault.open(sealed_photo)
        del sealed_photo
        photo = await asyncio.to_thread(Photo.from_stored, data)
        del data

        async def progress(update: Progress) -> None:
            self._outbox.post_status(
                JobEvent(
                    EventKind.PROGRESS,
                    job,
                    fraction=update.fraction,
                    stage=update.stage,
                    preview=update.preview,
                )
            )

        generator, stand_in = await self._admission.painter(job)
        try:
            async with self._painting[job.generator]:
                await self._admission.reserve_spend(job, generator)
                log_event(log, "job.started", job=job.id, attempt=job.attempts, generator=job.generator)
                self._outbox.post_status(JobEvent(EventKind.STARTED, job))
                async with asyncio.timeout(self._settings.job_timeout):
                    who = self._store.db.vault.pseudonym(
                        f"safety:{job.requester.platform}:{job.requester.user_id}"
                    )
                    try:
                        result = await generator.generate(photo, job.spec, progress, requester=who)
                    except GeneratorError as error:
                        self._admission.spent_on_failure(job, error.cost_usd)
                        raise
        finally:
            await self._outbox.settle_statuses(job.id)
        painted = as_painted(result)
        return replace(painted, stand_in=stand_in) if stand_in else painted

    async def _interrupted(self, job: Job) -> None:
        """The painting was cancelled: by the user or a forget (already recorded), or by shutdown."""
        if job.id not in self._cancelled:
            await self._requeue(job)

    async def _requeue(self, job: Job) -> None:
        """Put a job this process took back in the queue, not counting the attempt."""
        if await self._queue.release(job.id):
            log_event(log, "job.requeued", job=job.id, reason="shutdown")

    async def _retry_or_fail(self, job: Job, error: Transient) -> None:
        delay = retry_delay(error, job.attempts, self._settings)
        if delay is None:
            await self._fail(job, BUSY)
            return
        if await self._queue.retry_after(job.id, self._clock() + delay):
            log_event(
                log,
                "job.retry",
                job=job.id,
                attempt=job.attempts,
                delay=round(delay, 2),
                reason=error.message,
            )
            self._work.set()

    async def _fail(self, job: Job, reason: str) -> None:
        now = self._clock()
        if await self._store.jobs.transition(
            job.id, [Status.RUNNING], status=Status.FAILED, error=reason, finished_at=now
        ):
            log_event(log, "job.failed", job=job.id, reason=reason)
            await self._retention.release_photo(job)
            await self._outbox.deliver(job.id)

    async def _finish(self, job: Job, painted: Painted) -> None:
        fmt = self._settings.figure_format
        data = await asyncio.to_thread(encode_figure, painted.image, fmt)
        now = self._clock()
        figure_expiry, photo_expiry = await self._retention.expiries(job, now)
        done = await self._store.jobs.finish(
            job,
            data,
            fmt,
            now,
            figure_expiry,
            photo_expiry,
            cost_usd=painted.cost_usd or None,
            painted_by=painted.stand_in,
            notes=_shown_notes(painted.notes),
        )
        if done is None:  # cancelled or forgotten while the last step ran
            return
        log_event(log, "job.done", job=job.id, bytes=len(data))
        await self._outbox.deliver(done.id, JobEvent(EventKind.DONE, done, figure=data, figure_format=fmt))
