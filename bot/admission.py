"""Admission: which generator paints a request, consent, the per-user and per-chat limits, daily quotas,
budgets, and booking what painting costs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.chat_settings import ChatSettingsCache
from bot.chats import ChatSettings
from bot.config import Settings
from bot.durations import duration_words
from bot.errors import UserFacingError
from bot.generators.base import Generator, Painted
from bot.jobs import ACTIVE, Job, Requester
from bot.logs import log_event
from bot.privacy import ConsentRequired, privacy_notice
from bot.store.repository import Store

log = logging.getLogger("figurebot.engine.admission")


class LimitReached(UserFacingError):
    """A per-user or per-chat limit stops this request; the message says when it resets."""


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


def day_and_reset(now: float) -> tuple[str, str]:
    """The current UTC day (``YYYY-MM-DD``), and how long until the next one, in words."""
    moment = datetime.fromtimestamp(now, UTC)
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    left = (start + timedelta(days=1) - moment).total_seconds()
    return start.date().isoformat(), duration_words(left)


class Admission:
    """Decides whether a request may become a job, counts it, and books what painting it costs.

    Usage and spend are counted per day under pseudonyms of the user and the chat, never their ids.
    """

    def __init__(
        self,
        store: Store,
        generators: Mapping[str, Generator],
        settings: Settings,
        chats: ChatSettingsCache,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._generators = generators  # the engine's own mapping: generators added later count too
        self._settings = settings
        self._chats = chats
        self._clock = clock
        self._admitting = asyncio.Lock()
        self._booking = asyncio.Lock()
        self._reserved: dict[str, tuple[str, float]] = {}  # job id → (day, expected cost) while painting
        self._spent_on_failure: dict[str, float] = {}  # job id → what a failed paid call still cost

    # Which generator

    def generator_for(self, name: str | None) -> tuple[str, Generator]:
        """The generator called ``name`` (the configured default for ``None``)."""
        chosen = name or self._settings.figurebot_generator
        if chosen not in self._generators:
            raise UserFacingError(f"There is no generator called '{chosen}' here.")
        return chosen, self._generators[chosen]

    def own_machine_painters(self) -> list[str]:
        """The generators that keep photos on this bot's own machines (this one, or the operator's own
        GPU servers), AI painters first: the ones a chat set to keep photos there may use."""
        names = [
            name for name, generator in self._generators.items() if not generator.sends_photo_off_machine
        ]
        return sorted(names, key=lambda name: name == "local")

    def _kept_here(self, now: str = "") -> tuple[str, Generator]:
        """The generator that paints for a chat that keeps photos on this bot's own machines."""
        painters = self.own_machine_painters()
        if not painters:
            raise UserFacingError(
                f"This chat {now}keeps photos on this bot's own machines, but no generator here paints there."
            )
        return painters[0], self._generators[painters[0]]

    async def generator_in(self, requester: Requester, name: str | None = None) -> tuple[str, Generator]:
        """The generator for a request from ``requester``'s chat: ``name`` or the default, unless the chat
        keeps photos on this bot's own machines, where one that paints there stands in."""
        chosen, generator = self.generator_for(name)
        if generator.sends_photo_off_machine and (await self._chats.get(requester)).local_only:
            return self._kept_here()
        return chosen, generator

    async def painter(self, job: Job) -> tuple[Generator, str | None]:
        """The generator that paints ``job``, and the stand-in's name when the chat came to keep photos on
        this bot's own machines after the job was queued: its photo must not leave them any more."""
        generator = self._generators[job.generator]
        if not generator.sends_photo_off_machine or not (await self._chats.get(job.requester)).local_only:
            return generator, None
        name, stand_in = self._kept_here("now ")
        return stand_in, name

    # Consent

    async def consented_generator(self, requester: Requester, name: str | None) -> tuple[str, Generator]:
        """``generator_in``, once the user has accepted the notice of a generator that sends photos away
        (``ConsentRequired`` otherwise). Consent is per recipient: accepting one service's notice is not
        consent to another's."""
        chosen, generator = await self.generator_in(requester, name)
        if generator.sends_photo_off_machine:
            version = self._settings.privacy_notice_version
            accepted = await self._store.privacy.consent_version(
                requester.platform, requester.user_id, chosen
            )
            if accepted is None or accepted < version:
                raise ConsentRequired(privacy_notice(chosen, True, self._settings), version)
        return chosen, generator

    async def accept_privacy(self, requester: Requester) -> None:
        """Record that the user accepted the current privacy notice of the generator their chat uses (the
        notice they were shown)."""
        version = self._settings.privacy_notice_version
        recipient, _ = await self.generator_in(requester)
        await self._store.privacy.accept_consent(
            requester.platform, requester.user_id, recipient, version, self._clock()
        )
        log_event(
            log,
            "consent.accepted",
            platform=requester.platform,
            recipient=recipient,
            user=self.subjects(requester)["user"],  # a pseudonym: logs outlive /forget
            version=version,
        )

    # Limits and quotas

    def subjects(self, requester: Requester) -> dict[str, str]:
        """Pseudonyms under which the requester's and the chat's daily usage is counted."""
        pseudonym = self._store.db.vault.pseudonym
        return {"user": pseudonym(f"user:{requester.user_id}"), "chat": pseudonym(f"chat:{requester.scope}")}

    def _quota(self, generator: Generator, who: str, chat: ChatSettings) -> int:
        """The daily limit: the operator's setting or the generator's own; a chat may only lower it."""
        settings = self._settings
        configured = settings.daily_quota_per_user if who == "user" else settings.daily_quota_per_chat
        if configured is None:
            configured = generator.daily_quota_per_user if who == "user" else generator.daily_quota_per_chat
        if who == "user" and chat.daily_quota_per_user is not None:
            return min(chat.daily_quota_per_user, configured)
        return configured

    @asynccontextmanager
    async def admitting(self) -> AsyncIterator[None]:
        """Held while a request's limits are checked and its job counted and stored, so that requests
        arriving together cannot pass a limit together."""
        async with self._admitting:
            yield

    async def check_limits(self, requester: Requester, name: str, generator: Generator) -> None:
        """Raise ``LimitReached`` when the requester's active jobs, a daily quota or a budget is used up."""
        active_limit = self._settings.max_active_jobs_per_user
        if active_limit:
            active = await self._store.jobs.count(
                requester.platform, user_id=requester.user_id, statuses=ACTIVE
            )
            if active >= active_limit:
                raise LimitReached(
                    f"You already have {active} figure{'s' if active != 1 else ''} in the works; "
                    f"the limit is {active_limit}. Wait for one to finish, or cancel one."
                )
        day, resets_in = day_and_reset(self._clock())
        subjects = self.subjects(requester)
        chat = await self._chats.get(requester)
        for who, subject in (("user", "You have"), ("chat", "This chat has")):
            quota = self._quota(generator, who, chat)
            used = await self._store.usage.count(day, requester.platform, subjects[who], name)
            if used >= quota:
                raise LimitReached(
                    f"{subject} made {used} figures today; the daily limit is {quota}. "
                    f"It resets in {resets_in} (midnight UTC)."
                )
        await self._check_budget(requester, generator)

    async def count(self, requester: Requester, generator: str, now: float) -> None:
        """Count a job against the day's quotas of the requester and their chat."""
        subjects = self.subjects(requester)
        day = day_and_reset(now)[0]
        await self._store.usage.count_job(
            day, requester.platform, subjects.values(), generator, subjects["chat"]
        )

    async def quota(self, requester: Requester) -> Quota:
        """Today's figures, limits and budget for ``requester`` with the generator their chat uses."""
        name, generator = await self.generator_in(requester)
        day, resets_in = day_and_reset(self._clock())
        subjects = self.subjects(requester)
        chat = await self._chats.get(requester)
        return Quota(
            generator=name,
            user_used=await self._store.usage.count(day, requester.platform, subjects["user"], name),
            user_limit=self._quota(generator, "user", chat),
            chat_used=await self._store.usage.count(day, requester.platform, subjects["chat"], name),
            chat_limit=self._quota(generator, "chat", chat),
            active=len(await self._store.jobs.active(requester.platform, requester.user_id)),
            active_limit=self._settings.max_active_jobs_per_user,
            resets_in=resets_in,
            budget_left_usd=await self._budget_for_one_more(requester, generator),
        )

    # Budgets and spend

    async def _budget_left(self, requester: Requester) -> float | None:
        """USD left today under the global and the chat's budget, whichever is less; ``None``: no budget."""
        day = day_and_reset(self._clock())[0]
        left = []
        if self._settings.daily_budget_usd is not None:
            left.append(self._settings.daily_budget_usd - await self._store.usage.spent(day))
        if self._settings.daily_budget_per_chat_usd is not None:
            spent = await self._store.usage.spent(day, requester.platform, self.subjects(requester)["chat"])
            left.append(self._settings.daily_budget_per_chat_usd - spent)
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
            resets_in = day_and_reset(self._clock())[1]
            raise LimitReached(
                f"Today's budget for figures is used up. It resets in {resets_in} (midnight UTC)."
            )

    async def reserve_spend(self, job: Job, generator: Generator) -> None:
        """Check the budget again just before painting (many queued jobs may have passed it at submit)
        and book the expected cost in the same step, so jobs painting at once cannot pass it together."""
        if generator.cost_estimate_usd <= 0:
            return
        async with self._booking:
            await self._check_budget(job.requester, generator)
            day = day_and_reset(self._clock())[0]
            self._reserved[job.id] = (day, generator.cost_estimate_usd)
            await self._add_spend(job, generator.cost_estimate_usd, day)

    def spent_on_failure(self, job: Job, cost_usd: float) -> None:
        """A paid call for ``job`` failed but still cost ``cost_usd``; booked when the job settles."""
        self._spent_on_failure[job.id] = cost_usd

    async def settle_spend(self, job: Job, painted: Painted | None) -> None:
        """Replace the booked estimate by the real cost (on the day it was booked). A failure after a paid
        answer (an unreadable image) still costs what the generator says."""
        day, booked = self._reserved.pop(job.id, (None, 0.0))
        spent_on_failure = self._spent_on_failure.pop(job.id, 0.0)
        cost = painted.cost_usd if painted else spent_on_failure
        if booked or cost:
            try:
                await self._add_spend(job, cost - booked, day or day_and_reset(self._clock())[0])
            except Exception:
                log.exception("recording spend failed", extra={"job": job.id})

    async def _add_spend(self, job: Job, cost_usd: float, day: str) -> None:
        scope = self.subjects(job.requester)["chat"]
        await self._store.usage.add_spend(day, job.requester.platform, scope, job.generator, cost_usd)
