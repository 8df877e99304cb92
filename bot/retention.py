"""How long photos and figures are kept: retention clocks, deletion once delivered, and the purge."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.admission import day_and_reset
from bot.chat_settings import ChatSettingsCache
from bot.config import Settings
from bot.jobs import Job
from bot.logs import log_event
from bot.store.repository import Store

log = logging.getLogger("figurebot.engine.retention")


def expiry(now: float, retention: float) -> float | None:
    """When something kept for ``retention`` seconds expires; ``None`` for 0 (it goes once delivered)."""
    return now + retention if retention else None


class Retention:
    """Applies the operator's retention settings, and a chat's shorter photo retention."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        chats: ChatSettingsCache,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._settings = settings
        self._chats = chats
        self._clock = clock

    async def photo_retention(self, job: Job) -> float:
        """How long the job's photo is kept: the global setting, or the chat's when shorter."""
        own = (await self._chats.get(job.requester)).photo_retention
        return self._settings.photo_retention if own is None else min(own, self._settings.photo_retention)

    async def expiries(self, job: Job, now: float) -> tuple[float | None, float | None]:
        """When the figure of ``job``, finished ``now``, and its photo expire (``None``: once delivered)."""
        return expiry(now, self._settings.figure_retention), expiry(now, await self.photo_retention(job))

    async def release_photo(self, job: Job, delete_now: bool = False) -> None:
        """Start the retention clock of the job's photo once no waiting job needs it.

        With a retention of 0 the photo goes after delivery; ``delete_now`` is for jobs that deliver
        nothing (cancelled), whose photo would otherwise be kept with no clock running.
        """
        if not job.photo_id:
            return
        expires_at = expiry(self._clock(), await self.photo_retention(job))
        if expires_at is not None:
            await self._store.photos.release(job.photo_id, expires_at)
        elif delete_now:
            await self._store.photos.delete_unused(job.photo_id)

    async def after_delivery(self, job: Job) -> None:
        """Retention 0 means: gone as soon as the chat has it."""
        if self._settings.figure_retention == 0 and job.figure_id:
            await self._store.jobs.delete_figure(job.figure_id)
        photo_retention = await self.photo_retention(job)
        if photo_retention == 0 and job.photo_id:
            await self._store.photos.delete_unused(job.photo_id)
        if self._settings.figure_retention == 0 or photo_retention == 0:
            await self._store.db.checkpoint()

    async def purge(self) -> dict[str, int]:
        """Delete photos and figures past their retention, old finished jobs, and old usage counts."""
        now = self._clock()
        two_days_ago = day_and_reset(now - 2 * 86400)[0]
        oldest_stats = day_and_reset(now - self._settings.stats_retention)[0]
        counts = await self._store.privacy.purge(
            now, self._settings.figure_retention, two_days_ago, oldest_stats
        )
        if any(counts.values()):
            log_event(log, "purge", **counts)
        return counts
