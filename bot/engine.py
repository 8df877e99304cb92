"""The job engine: durable queue, fair workers, typed retries, events, and exactly-once delivery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from PIL import Image

from bot.chats import ChatSettings
from bot.config import Settings
from bot.errors import PlatformNotReady, UserFacingError
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
from bot.jobs import ACTIVE, EventKind, Job, JobEvent, Requester, Status
from bot.logs import log_event
from bot.output import encode_figure
from bot.privacy import ConsentRequired, expired_message, privacy_notice
from bot.spec import FigureSpec
from bot.store.repository import Store

log = logging.getLogger("figurebot.engine")

EventHandler = Callable[[JobEvent], Awaitable[None]]
UNAVAILABLE = (
    "The figure service is unavailable right now; the bot's operator has been told. Please try later."
)
BUSY = "The figure service is too busy right now; please try again in a few minutes."
BROKEN = "Something went wrong while making your figure; please try again."
TOO_SLOW = "Making your figure took too long."
STATUS_GRACE = 5.0  # seconds a painting update on its way may take before the outcome is told
FIGURE_EXPIRED = "Your figure could not be delivered before it expired; please make it again."
MAX_NOTES, MAX_NOTE_LENGTH = 4, 160  # a generator's notes kept with a figure


class LimitReached(UserFacingError):
    """A per-user or per-chat limit stops this request; the message says when it resets."""


class JobNotFound(UserFacingError):
    """No such job, or not one of the requester's own."""


@dataclass(frozen=True)
class Submitted:
    job_id: str
    position: int


@dataclass(frozen=True)
class Quota:
    """Where a requester stands today, for ``/quota``."""

    generator: str
    user_used: int
    user_limit: int
    chat_used: int
    chat_limit: int
    active: int
    active_limit: int  # 0: no limit
    resets_in: str
    budget_left_usd: float | None  # None: no budget applies


def _day_and_reset(now: float) -> tuple[str, str]:
    """The current UTC day (``YYYY-MM-DD``), and how long until the next one, in words."""
    moment = datetime.fromtimestamp(now, UTC)
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    left = int((start + timedelta(days=1) - moment).total_seconds())
    hours, minutes = divmod(max(60, left) // 60, 60)
    return start.date().isoformat(), f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _shown_notes(notes: tuple[str, ...]) -> tuple[str, ...]:
    """A generator's notes cut to what every chat can show with a figure (Telegram captions hold 1024
    characters): ``MAX_NOTES`` of at most ``MAX_NOTE_LENGTH`` characters, blank ones left out."""
    kept = (" ".join(note.split()) for note in notes)
    return tuple(
        note if len(note) <= MAX_NOTE_LENGTH else note[: MAX_NOTE_LENGTH - 1] + "…" for note in kept if note
    )[:MAX_NOTES]


def _expiry(now: float, retention: float) -> float | None:
    """When something kept for ``retention`` seconds expires; ``None`` for 0 (it goes once delivered)."""
    return now + retention if retention else None


class JobEngine:
    """Turns requests into durable jobs, runs them fairly, and tells each platform what happened."""

    def __init__(
        self,
        store: Store,
        generators: Mapping[str, Generator],
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.generators = dict(generators)
        self.settings = settings
        self.clock = clock
        self._subscribers: dict[str, EventHandler] = {}
        # A generator paints ``concurrency`` figures at once; one more job per slot may be claimed and
        # prepared (photo decoded) meanwhile, so a slot never idles while the store is asked for work.
        self._painting = {name: asyncio.Semaphore(self._concurrency(name)) for name in self.generators}
        self._claimed = dict.fromkeys(self.generators, 0)
        self._claim_lock = asyncio.Lock()
        self._work = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[Image.Image]] = {}
        self._running: dict[str, Job] = {}
        self._cancelled: set[str] = set()
        self._admission = asyncio.Lock()
        self._delivering: set[str] = set()
        self._reserved: dict[str, tuple[str, float]] = {}  # job id → (day, expected cost) while painting
        self._spent_on_failure: dict[str, float] = {}  # job id → what a failed paid call still cost
        self._booking = asyncio.Lock()
        self._chats: dict[tuple[str, str], ChatSettings] = {}  # (platform, scope) → settings, as stored
        self._statuses: dict[str, JobEvent] = {}  # job id → latest painting update not yet sent
        self._status_senders: dict[str, asyncio.Task[None]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._maintenance: asyncio.Task[None] | None = None
        self._stopping = False

    def _concurrency(self, name: str) -> int:
        own = self.generators[name].concurrency
        return own or (
            self.settings.local_concurrency if name == "local" else self.settings.worker_concurrency
        )

    # Lifecycle

    def subscribe(self, platform: str, handler: EventHandler) -> None:
        """Send the events of ``platform``'s jobs to ``handler`` (one per platform)."""
        self._subscribers[platform] = handler

    async def start(self) -> None:
        """Recover from a previous run, then start the workers and the maintenance loop."""
        requeued, failed = await self.store.recover_running(self.settings.max_attempts, BROKEN, self.clock())
        if requeued or failed:
            log_event(log, "jobs.recovered", requeued=requeued, failed=failed)
        await self.purge()
        await self.redeliver()
        self._stopping = False
        self._workers = [asyncio.create_task(self._worker()) for _ in range(self.settings.worker_concurrency)]
        self._maintenance = asyncio.create_task(self._maintain())
        self._work.set()

    async def stop(self, grace: float | None = None) -> None:
        """Stop taking work, let running jobs finish for ``grace`` seconds, put the rest back in the queue."""
        self._stopping = True
        self._work.set()
        running = list(self._tasks.values())
        if running:
            await asyncio.wait(running, timeout=self.settings.shutdown_grace if grace is None else grace)
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if self._maintenance:
            self._maintenance.cancel()
            await asyncio.gather(self._maintenance, return_exceptions=True)
        self._workers, self._maintenance = [], None

    # Requests

    def generator_for(self, name: str | None) -> tuple[str, Generator]:
        chosen = name or self.settings.figurebot_generator
        if chosen not in self.generators:
            raise UserFacingError(f"There is no generator called '{chosen}' here.")
        return chosen, self.generators[chosen]

    async def generator_in(self, requester: Requester, name: str | None = None) -> tuple[str, Generator]:
        """The generator for a request from ``requester``'s chat: ``name`` or the default, unless the chat
        keeps photos on this machine, where the local generator paints instead."""
        chosen, generator = self.generator_for(name)
        if generator.sends_photo_off_machine and (await self.chat_settings(requester)).local_only:
            if "local" not in self.generators:
                raise UserFacingError("This chat keeps photos on this machine, but local rendering is off.")
            return "local", self.generators["local"]
        return chosen, generator

    async def chat_settings(self, requester: Requester) -> ChatSettings:
        """What the admins of ``requester``'s chat (or server) set. Kept in memory once read: every job
        asks, and settings change only through this engine."""
        key = (requester.platform, requester.scope)
        if key not in self._chats:
            self._chats[key] = await self.store.chat_settings(*key)
        return self._chats[key]

    async def move_chat_settings(self, platform: str, old_scope: str, new_scope: str) -> None:
        """A chat got a new id: its settings follow it."""
        await self.store.move_chat_settings(platform, old_scope, new_scope)
        self._chats.pop((platform, old_scope), None)
        self._chats.pop((platform, new_scope), None)

    async def update_chat_settings(self, requester: Requester, **changes: object) -> ChatSettings:
        """Change settings of ``requester``'s chat (the adapter checks that they may); the new settings."""
        current = await self.chat_settings(requester)
        try:
            updated = current.changed(**changes)
        except (TypeError, ValueError) as error:
            raise UserFacingError(f"Those settings cannot be saved: {error}.") from None
        await self.store.save_chat_settings(requester.platform, requester.scope, updated)
        self._chats[requester.platform, requester.scope] = updated
        log_event(log, "chat.settings", platform=requester.platform, changed=",".join(sorted(changes)))
        return updated

    async def _check_consent(self, requester: Requester, name: str, generator: Generator) -> None:
        if not generator.sends_photo_off_machine:
            return
        version = self.settings.privacy_notice_version
        accepted = await self.store.consent_version(requester.platform, requester.user_id)
        if accepted is None or accepted < version:
            raise ConsentRequired(privacy_notice(name, True, self.settings), version)

    async def accept_privacy(self, requester: Requester) -> None:
        """Record that the user accepted the current privacy notice."""
        version = self.settings.privacy_notice_version
        await self.store.accept_consent(requester.platform, requester.user_id, version, self.clock())
        log_event(
            log,
            "consent.accepted",
            platform=requester.platform,
            user=self._subjects(requester)["user"],  # a pseudonym: logs outlive /forget
            version=version,
        )

    def _quota(self, generator: Generator, who: str, chat: ChatSettings) -> int:
        """The daily limit: the operator's setting or the generator's own; a chat may only lower it."""
        configured = (
            self.settings.daily_quota_per_user if who == "user" else self.settings.daily_quota_per_chat
        )
        if configured is None:
            configured = generator.daily_quota_per_user if who == "user" else generator.daily_quota_per_chat
        if who == "user" and chat.daily_quota_per_user is not None:
            return min(chat.daily_quota_per_user, configured)
        return configured

    def _subjects(self, requester: Requester) -> dict[str, str]:
        """Pseudonyms under which the requester's and the chat's daily usage is counted."""
        pseudonym = self.store.vault.pseudonym
        return {"user": pseudonym(f"user:{requester.user_id}"), "chat": pseudonym(f"chat:{requester.scope}")}

    async def _check_limits(self, requester: Requester, name: str, generator: Generator) -> None:
        active_limit = self.settings.max_active_jobs_per_user
        if active_limit:
            active = await self.store.count_jobs(
                requester.platform, user_id=requester.user_id, statuses=ACTIVE
            )
            if active >= active_limit:
                raise LimitReached(
                    f"You already have {active} figure{'s' if active != 1 else ''} in the works; "
                    f"the limit is {active_limit}. Wait for one to finish, or cancel one."
                )
        day, resets_in = _day_and_reset(self.clock())
        subjects = self._subjects(requester)
        chat = await self.chat_settings(requester)
        for who, subject in (("user", "You have"), ("chat", "This chat has")):
            quota = self._quota(generator, who, chat)
            used = await self.store.usage(day, requester.platform, subjects[who], name)
            if used >= quota:
                raise LimitReached(
                    f"{subject} made {used} figures today; the daily limit is {quota}. "
                    f"It resets in {resets_in} (midnight UTC)."
                )
        await self._check_budget(requester, generator)

    async def _budget_left(self, requester: Requester) -> float | None:
        """USD left today under the global and the chat's budget, whichever is less; ``None``: no budget."""
        day = _day_and_reset(self.clock())[0]
        left = []
        if self.settings.daily_budget_usd is not None:
            left.append(self.settings.daily_budget_usd - await self.store.spent(day))
        if self.settings.daily_budget_per_chat_usd is not None:
            spent = await self.store.spent(day, requester.platform, self._subjects(requester)["chat"])
            left.append(self.settings.daily_budget_per_chat_usd - spent)
        return min(left) if left else None

    async def _budget_for_one_more(self, requester: Requester, generator: Generator) -> float | None:
        """What is left of today's budget, or 0 when it cannot pay for another figure; ``None``: no budget."""
        if generator.cost_estimate_usd <= 0:
            return None
        left = await self._budget_left(requester)
        return None if left is None else (left if left >= generator.cost_estimate_usd else 0.0)

    async def _check_budget(self, requester: Requester, generator: Generator) -> None:
        """Refuse a figure whose expected cost would pass today's budget, before anything is spent."""
        if generator.cost_estimate_usd <= 0:
            return
        left = await self._budget_left(requester)
        if left is not None and generator.cost_estimate_usd > left:
            resets_in = _day_and_reset(self.clock())[1]
            raise LimitReached(
                f"Today's budget for figures is used up. It resets in {resets_in} (midnight UTC)."
            )

    async def submit(
        self,
        requester: Requester,
        photo: Photo,
        spec: FigureSpec,
        generator: str | None = None,
        ref: str | None = None,
    ) -> Submitted:
        """Queue a figure of ``photo``; its id and queue position. Raises a user-facing error when refused.

        ``ref`` is the platform's note about the job (where its status message is), given back in events."""
        name, chosen = await self.generator_in(requester, generator)
        await self._check_consent(requester, name, chosen)
        data = await asyncio.to_thread(photo.encode, "JPEG")
        async with self._admission:  # checking the limits and counting the job happen as one step
            await self._check_limits(requester, name, chosen)
            photo_id = await self.store.add_photo(requester.platform, requester.user_id, data, self.clock())
            job_id = await self._add_job(requester, spec, name, photo_id, ref=ref)
        return await self._announce(job_id)

    async def reroll(
        self, job_id: str, requester: Requester, spec: FigureSpec | None = None, ref: str | None = None
    ) -> Submitted:
        """Make another figure from the photo of ``job_id`` (same spec unless a new one is given). It is the
        photo's next variant, one more than any figure made from it so far, so each re-roll (or change of
        theme) is a different take."""
        job = await self.own_job(job_id, requester)
        name, chosen = await self.generator_in(requester, job.generator)
        await self._check_consent(requester, name, chosen)
        async with self._admission:
            variant = await self.store.next_variant(job.photo_id) if job.photo_id else None
            if job.photo_id is None or variant is None:
                raise UserFacingError(expired_message(self.settings))
            await self._check_limits(requester, name, chosen)
            # The new job exists before the photo is held, so a sibling finishing in between
            # cannot start the photo's retention clock.
            new_spec = replace(spec or job.spec, variant=variant)
            new_id = await self._add_job(requester, new_spec, name, job.photo_id, job.id, ref)
            await self.store.set_photo_expiry(job.photo_id, None)
        return await self._announce(new_id)

    async def _add_job(
        self,
        requester: Requester,
        spec: FigureSpec,
        generator: str,
        photo_id: str,
        parent_id: str | None = None,
        ref: str | None = None,
    ) -> str:
        """Count the job against today's quotas and store it: counted first, so a job that can be seen
        (in ``/quota``'s figures in the works) is always in the day's count too."""
        now = self.clock()
        subjects = self._subjects(requester)
        await self.store.count_job(
            _day_and_reset(now)[0], requester.platform, subjects.values(), generator, subjects["chat"]
        )
        return await self.store.add_job(requester, spec, generator, photo_id, now, parent_id, ref)

    async def _announce(self, job_id: str) -> Submitted:
        """Tell the platform a job is queued, wake a worker, and report the job's place."""
        position = await self.position(job_id) or 1
        job = await self.store.job(job_id)
        if job is not None:
            log_event(
                log,
                "job.queued",
                job=job_id,
                platform=job.requester.platform,
                generator=job.generator,
                position=position,
            )
            await self._emit(JobEvent(EventKind.QUEUED, job, position=position))
        self._work.set()
        return Submitted(job_id, position)

    async def own_job(self, job_id: str, requester: Requester) -> Job:
        """The job if it exists and belongs to ``requester``; otherwise a user-facing error."""
        job = await self.store.job(job_id)
        if job is None or (job.requester.platform, job.requester.user_id) != (
            requester.platform,
            requester.user_id,
        ):
            raise JobNotFound("I can't find that figure among yours.")
        return job

    async def set_ref(self, job_id: str, ref: str | None) -> None:
        """Replace the platform's note about a job."""
        await self.store.set_ref(job_id, ref)

    async def quota(self, requester: Requester) -> Quota:
        """Today's figures, limits and budget for ``requester`` with the generator their chat uses."""
        name, generator = await self.generator_in(requester)
        day, resets_in = _day_and_reset(self.clock())
        subjects = self._subjects(requester)
        chat = await self.chat_settings(requester)
        return Quota(
            generator=name,
            user_used=await self.store.usage(day, requester.platform, subjects["user"], name),
            user_limit=self._quota(generator, "user", chat),
            chat_used=await self.store.usage(day, requester.platform, subjects["chat"], name),
            chat_limit=self._quota(generator, "chat", chat),
            active=len(await self.store.active_jobs(requester.platform, requester.user_id)),
            active_limit=self.settings.max_active_jobs_per_user,
            resets_in=resets_in,
            budget_left_usd=await self._budget_for_one_more(requester, generator),
        )

    async def position(self, job_id: str) -> int | None:
        """1 for the next job to start; ``None`` when the job is not waiting."""
        for index, row in enumerate(await self.store.queue(), start=1):
            if row.id == job_id:
                return index
        return None

    async def cancel(self, job_id: str, requester: Requester) -> Job:
        """Cancel a queued or running job of ``requester``; the job as it was. Finished jobs stay."""
        job = await self.own_job(job_id, requester)
        now = self.clock()
        if not await self.store.transition(job.id, ACTIVE, status=Status.CANCELLED, finished_at=now):
            raise UserFacingError("That figure is already finished, so there is nothing to cancel.")
        self._cancel_task(job.id)
        await self._release_photo(job, delete_now=True)
        log_event(log, "job.cancelled", job=job.id)
        await self._emit(JobEvent(EventKind.CANCELLED, job))
        return job

    async def delete_figure(self, job_id: str, requester: Requester) -> None:
        """Delete one finished figure of ``requester`` and its record (its photo keeps its own clock)."""
        job = await self.own_job(job_id, requester)
        if job.status in ACTIVE:
            raise UserFacingError("That figure is still in the works; cancel it instead.")
        if not await self.store.delete_finished_job(job):
            raise JobNotFound("I can't find that figure among yours.")
        log_event(log, "figure.deleted", job=job.id)

    async def forget(self, requester: Requester) -> dict[str, int]:
        """Cancel the user's jobs and delete everything stored about them; counts per kind."""
        counts = await self.store.forget(requester.platform, requester.user_id)
        owner = (requester.platform, requester.user_id)
        for job in list(self._running.values()):  # claimed before or during the deletion
            if (job.requester.platform, job.requester.user_id) == owner:
                self._cancel_task(job.id)
        log_event(log, "user.forgotten", platform=requester.platform, **counts)
        return counts

    def _cancel_task(self, job_id: str) -> None:
        """Stop the job's painting, if it is under way, without putting it back in the queue."""
        task = self._tasks.get(job_id)
        if task is not None:
            self._cancelled.add(job_id)
            task.cancel()

    async def purge(self) -> dict[str, int]:
        """Delete photos and figures past their retention, old finished jobs, and old usage counts."""
        now = self.clock()
        two_days_ago = _day_and_reset(now - 2 * 86400)[0]
        oldest_stats = _day_and_reset(now - self.settings.stats_retention)[0]
        counts = await self.store.purge(now, self.settings.figure_retention, two_days_ago, oldest_stats)
        if any(counts.values()):
            log_event(log, "purge", **counts)
        return counts

    # Work

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

    async def _claim(self) -> tuple[Job, bytes | None] | None:
        """Take the next job in fair order whose generator has room (and its photo); mark it running."""
        async with self._claim_lock:
            free = [name for name, count in self._claimed.items() if count < 2 * self._concurrency(name)]
            if self._stopping or not free:
                return None
            claimed = await self.store.claim_next(free, self.clock())
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
            await self._settle_spend(job, painted)
        try:
            await self._finish(job, painted)
        except Exception:
            log.exception("storing a figure failed", extra={"job": job.id})
            await self._fail(job, BROKEN)

    async def _generate(self, job: Job, sealed_photo: bytes | None) -> Painted:
        if sealed_photo is None:
            raise UserFacingError(expired_message(self.settings))
        data = self.store.vault.open(sealed_photo)
        del sealed_photo
        photo = await asyncio.to_thread(Photo.from_stored, data)
        del data

        async def progress(update: Progress) -> None:
            self._post_status(
                JobEvent(
                    EventKind.PROGRESS,
                    job,
                    fraction=update.fraction,
                    stage=update.stage,
                    preview=update.preview,
                )
            )

        generator, stand_in = await self._painter(job)
        try:
            async with self._painting[job.generator]:
                await self._reserve_spend(job, generator)
                log_event(log, "job.started", job=job.id, attempt=job.attempts, generator=job.generator)
                self._post_status(JobEvent(EventKind.STARTED, job))
                async with asyncio.timeout(self.settings.job_timeout):
                    who = self.store.vault.pseudonym(
                        f"safety:{job.requester.platform}:{job.requester.user_id}"
                    )
                    try:
                        result = await generator.generate(photo, job.spec, progress, requester=who)
                    except GeneratorError as error:
                        self._spent_on_failure[job.id] = error.cost_usd
                        raise
        finally:
            await self._settle_statuses(job.id)
        painted = as_painted(result)
        return replace(painted, stand_in=stand_in) if stand_in else painted

    def _post_status(self, event: JobEvent) -> None:
        """Tell the chat how a painting goes without making the painting wait for the chat: one sender
        per job passes on the latest update; updates that pile up while the chat is slow are skipped."""
        job_id = event.job.id
        self._statuses[job_id] = event
        if job_id not in self._status_senders:
            self._status_senders[job_id] = asyncio.create_task(self._send_statuses(job_id))

    async def _send_statuses(self, job_id: str) -> None:
        try:
            while (event := self._statuses.pop(job_id, None)) is not None:
                await self._emit(event)
        finally:
            self._status_senders.pop(job_id, None)

    async def _settle_statuses(self, job_id: str) -> None:
        """Before the job's outcome is told, the latest update gets a moment to arrive; then it is dropped."""
        sender = self._status_senders.get(job_id)
        if sender is not None:
            finished, _ = await asyncio.wait([sender], timeout=STATUS_GRACE)
            if not finished:
                self._statuses.pop(job_id, None)
                sender.cancel()

    async def _painter(self, job: Job) -> tuple[Generator, str | None]:
        """The generator that paints ``job``, and the stand-in's name when the chat went local-only after
        the job was queued: its photo must not leave the machine any more."""
        generator = self.generators[job.generator]
        if not generator.sends_photo_off_machine or not (await self.chat_settings(job.requester)).local_only:
            return generator, None
        if "local" not in self.generators:
            raise UserFacingError("This chat now keeps photos on this machine, but local rendering is off.")
        return self.generators["local"], "local"

    async def _reserve_spend(self, job: Job, generator: Generator) -> None:
        """Check the budget again just before painting (many queued jobs may have passed it at submit)
        and book the expected cost in the same step, so jobs painting at once cannot pass it together."""
        if generator.cost_estimate_usd <= 0:
            return
        async with self._booking:
            await self._check_budget(job.requester, generator)
            day = _day_and_reset(self.clock())[0]
            self._reserved[job.id] = (day, generator.cost_estimate_usd)
            await self._add_spend(job, generator.cost_estimate_usd, day)

    async def _settle_spend(self, job: Job, painted: Painted | None) -> None:
        """Replace the booked estimate by the real cost (on the day it was booked). A failure after a paid
        answer (an unreadable image) still costs what the generator says."""
        day, booked = self._reserved.pop(job.id, (None, 0.0))
        spent_on_failure = self._spent_on_failure.pop(job.id, 0.0)
        cost = painted.cost_usd if painted else spent_on_failure
        if booked or cost:
            try:
                await self._add_spend(job, cost - booked, day or _day_and_reset(self.clock())[0])
            except Exception:
                log.exception("recording spend failed", extra={"job": job.id})

    async def _add_spend(self, job: Job, cost_usd: float, day: str) -> None:
        scope = self._subjects(job.requester)["chat"]
        await self.store.add_spend(day, job.requester.platform, scope, job.generator, cost_usd)

    async def _interrupted(self, job: Job) -> None:
        """The painting was cancelled: by the user or a forget (already recorded), or by shutdown."""
        if job.id not in self._cancelled:
            await self._requeue(job)

    async def _requeue(self, job: Job) -> None:
        """Put a job this process took back in the queue, not counting the attempt."""
        if await self.store.requeue(job.id):
            log_event(log, "job.requeued", job=job.id, reason="shutdown")

    async def _retry_or_fail(self, job: Job, error: Transient) -> None:
        if job.attempts >= self.settings.max_attempts:
            await self._fail(job, BUSY)
            return
        delay = max(error.retry_after or 0.0, self.settings.retry_base_delay * 2 ** (job.attempts - 1))
        retried = await self.store.transition(
            job.id, [Status.RUNNING], status=Status.QUEUED, not_before=self.clock() + delay, started_at=None
        )
        if retried:
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
        now = self.clock()
        if await self.store.transition(
            job.id, [Status.RUNNING], status=Status.FAILED, error=reason, finished_at=now
        ):
            log_event(log, "job.failed", job=job.id, reason=reason)
            await self._release_photo(job)
            await self._deliver(job.id)

    async def _finish(self, job: Job, painted: Painted) -> None:
        fmt = self.settings.figure_format
        data = await asyncio.to_thread(encode_figure, painted.image, fmt)
        now = self.clock()
        figure_expiry = _expiry(now, self.settings.figure_retention)
        photo_expiry = _expiry(now, await self._photo_retention(job))
        done = await self.store.finish_job(
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
        await self._deliver(done.id, JobEvent(EventKind.DONE, done, figure=data, figure_format=fmt))

    async def _photo_retention(self, job: Job) -> float:
        """How long the job's photo is kept: the global setting, or the chat's when shorter."""
        own = (await self.chat_settings(job.requester)).photo_retention
        return self.settings.photo_retention if own is None else min(own, self.settings.photo_retention)

    async def _release_photo(self, job: Job, delete_now: bool = False) -> None:
        """Start the retention clock of the job's photo once no waiting job needs it.

        With a retention of 0 the photo goes after delivery; ``delete_now`` is for jobs that deliver
        nothing (cancelled), whose photo would otherwise be kept with no clock running.
        """
        if not job.photo_id:
            return
        expiry = _expiry(self.clock(), await self._photo_retention(job))
        if expiry is not None:
            await self.store.release_photo(job.photo_id, expiry)
        elif delete_now:
            await self.store.delete_unused_photo(job.photo_id)

    # Delivery

    async def _emit(self, event: JobEvent) -> None:
        handler = self._subscribers.get(event.job.requester.platform)
        if handler is None:
            return
        try:
            await handler(event)
        except PlatformNotReady:  # a status update the chat will not miss much
            log.debug("platform not connected; event skipped", extra={"job": event.job.id})
        except Exception:
            log.exception("event handler failed", extra={"job": event.job.id, "event": event.kind.value})

    async def _deliver(self, job_id: str, ready: JobEvent | None = None) -> bool:
        """Hand a finished job to its platform once; mark it delivered only after the handler succeeded.

        ``ready`` is the event when the caller has it in hand; otherwise it is rebuilt from the store.
        """
        if job_id in self._delivering:
            return False
        self._delivering.add(job_id)
        try:
            job = ready.job if ready else await self.store.job(job_id)
            handler = self._subscribers.get(job.requester.platform) if job else None
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
            await self.store.mark_delivered(job.id, self.clock())
            log_event(log, "job.delivered", job=job.id, status=job.status.value)
            await self._after_delivery(job)
            return True
        finally:
            self._delivering.discard(job_id)

    async def _final_event(self, job: Job) -> JobEvent:
        """The done or failed event of a finished job, from the store."""
        if job.status is Status.DONE and job.figure_id:
            stored = await self.store.figure(job.figure_id)
            if stored is None:  # kept past its retention while undeliverable
                return JobEvent(EventKind.FAILED, job, reason=FIGURE_EXPIRED)
            return JobEvent(EventKind.DONE, job, figure=stored[0], figure_format=stored[1])
        return JobEvent(EventKind.FAILED, job, reason=job.error)

    async def _after_delivery(self, job: Job) -> None:
        """Retention 0 means: gone as soon as the chat has it."""
        if self.settings.figure_retention == 0 and job.figure_id:
            await self.store.delete_figure(job.figure_id)
        photo_retention = await self._photo_retention(job)
        if photo_retention == 0 and job.photo_id:
            await self.store.delete_unused_photo(job.photo_id)
        if self.settings.figure_retention == 0 or photo_retention == 0:
            await self.store.checkpoint()

    async def redeliver(self) -> int:
        """Deliver finished jobs that have not reached their chat (after a crash or a platform outage)."""
        delivered = 0
        for job in await self.store.undelivered():
            delivered += await self._deliver(job.id)
        return delivered

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
