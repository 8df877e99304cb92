"""Theme challenges: an admin sets a theme, members enter figures, everyone votes, a winner is crowned.

Phases run submissions → voting → closed (or cancelled). Deadlines live in the store and are checked by a
loop, so a deadline that passed while the bot was down is caught up at the next start: the phase changes
and the announcement is posted late, not lost. Announcements are marked sent only after the platform's
handler succeeded, like job deliveries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.boxart.shelf import shelf_image
from bot.challenge_types import (
    OPEN_PHASES,
    POINTS,
    Challenge,
    ChallengeEvent,
    ChallengeEventKind,
    Entry,
    Phase,
    Placing,
    Standing,
    rank,
)
from bot.config import parse_duration
from bot.engine import JobEngine
from bot.errors import PlatformNotReady, UserFacingError
from bot.jobs import ACTIVE, Job, Requester, Status
from bot.logs import log_event
from bot.output import encode_figure
from bot.spec import make_spec
from bot.store.challenges import ChallengeStore

log = logging.getLogger("figurebot.challenges")

SHORTEST, LONGEST = 60.0, 30 * 86400.0
DEFAULT_VOTING_MAX = 86400.0
TICK = 1.0  # seconds between deadline checks
PURGE_EVERY = 600.0
QUICK_RETRIES = 3  # failed announcements tried again at the next check, before backing off
RETRY_CEILING = 300.0


class NotAllowed(UserFacingError):
    """Only a chat's admins may do that."""


Announcer = Callable[[ChallengeEvent], Awaitable[None]]


def parse_period(text: str, what: str) -> float:
    """Seconds from ``90m``, ``2h``, ``3d``…, between a minute and 30 days."""
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise UserFacingError(
            f"The {what} '{text[:20]}' is not a duration; write e.g. 90m, 2h or 3d."
        ) from None
    if not SHORTEST <= seconds <= LONGEST:
        raise UserFacingError(f"The {what} must be between 1 minute and 30 days.")
    return seconds


class ChallengeService:
    """Runs the challenges of every chat: commands from adapters, deadlines, announcements."""

    def __init__(
        self, engine: JobEngine, records: ChallengeStore, clock: Callable[[], float] | None = None
    ) -> None:
        self.engine = engine
        self.records = records
        self.clock = clock or engine.clock
        self._announcers: dict[str, Announcer] = {}
        self._loop: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one phase change at a time
        self._announcing = asyncio.Lock()
        self._ballot = asyncio.Lock()  # entries and votes: checked and written as one step
        self._failures: dict[str, tuple[int, float]] = {}  # challenge id → (failed announcements, next try)

    def subscribe(self, platform: str, announcer: Announcer) -> None:
        self._announcers[platform] = announcer

    async def start(self) -> None:
        """Catch up on deadlines that passed while stopped, then keep watching them."""
        await self.tick()
        self._loop = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._loop:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None

    async def _watch(self) -> None:
        last_purge = self.clock()
        while True:
            await asyncio.sleep(TICK)
            try:
                await self.tick()
                if self.clock() - last_purge >= PURGE_EVERY:
                    last_purge = self.clock()
                    await self.records.purge(self.clock() - self.engine.settings.figure_retention)
            except Exception:
                log.exception("challenge deadlines failed")

    async def tick(self) -> None:
        """Move every challenge whose deadline passed on, and post announcements still owed."""
        for challenge in await self.records.due(self.clock()):
            await self._next_phase(challenge)
        for challenge in await self.records.unannounced():
            if self.clock() >= self._failures.get(challenge.id, (0, 0.0))[1]:
                await self._announce(challenge)

    # Commands

    async def current(self, requester: Requester) -> Challenge | None:
        """The challenge taking entries or votes in ``requester``'s chat."""
        return await self.records.open_in(requester.platform, requester.chat_id)

    async def _current_or_explain(self, requester: Requester) -> Challenge:
        challenge = await self.current(requester)
        if challenge is None:
            raise UserFacingError("There is no challenge running in this chat. An admin can start one.")
        return challenge

    async def begin(
        self,
        requester: Requester,
        theme: str,
        submit_for: str,
        vote_for: str | None = None,
        *,
        is_admin: bool,
        entries_per_user: int = 1,
        votes_per_voter: int = 1,
    ) -> Challenge:
        """Start a challenge in ``requester``'s chat (admins only)."""
        _admins_only(is_admin, "start a challenge")
        if not theme.strip():
            raise UserFacingError("Give the challenge a theme, e.g. Space Week.")
        theme_text = make_spec(
            theme=theme
        ).theme  # a catalog key, or the cleaned words; SpecError if too long
        submitting = parse_period(submit_for, "entry period")
        voting = parse_period(vote_for, "voting period") if vote_for else min(submitting, DEFAULT_VOTING_MAX)
        if not (1 <= entries_per_user <= 10 and 1 <= votes_per_voter <= 10):
            raise UserFacingError("Entries per member and votes per voter must be between 1 and 10.")
        async with self._lock:
            if await self.current(requester) is not None:
                raise UserFacingError("A challenge is already running here; finish or cancel it first.")
            now = self.clock()
            challenge_id = await self.records.add(
                {
                    "platform": requester.platform,
                    "chat_id": requester.chat_id,
                    "guild_id": requester.guild_id,
                    "theme": theme_text,
                    "created_by": requester.user_id,
                    "phase": Phase.SUBMISSIONS,
                    "submit_until": now + submitting,
                    "vote_for": voting,
                    "entries_per_user": entries_per_user,
                    "votes_per_voter": votes_per_voter,
                    "created_at": now,
                    "announced": Phase.SUBMISSIONS,  # the adapter answers the command itself
                }
            )
        log_event(log, "challenge.started", challenge=challenge_id, platform=requester.platform)
        return await self._reload(challenge_id)

    async def advance(self, requester: Requester, *, is_admin: bool) -> Challenge:
        """Move the chat's challenge to its next phase now (admins only)."""
        _admins_only(is_admin, "move a challenge on")
        return await self._next_phase(await self._current_or_explain(requester))

    async def cancel(self, requester: Requester, *, is_admin: bool) -> Challenge:
        """Call off the chat's challenge (admins only)."""
        _admins_only(is_admin, "cancel a challenge")
        async with self._lock:
            challenge = await self._current_or_explain(requester)
            await self.records.change(
                challenge.id, OPEN_PHASES, phase=Phase.CANCELLED, closed_at=self.clock()
            )
        log_event(log, "challenge.cancelled", challenge=challenge.id)
        return await self._announce(await self._reload(challenge.id))

    async def enter(self, requester: Requester, job_id: str | None = None) -> tuple[Challenge, int]:
        """Enter a figure (the given one, or the requester's latest that may be entered); the entry's number.
        Any finished figure the member made in the chat during the entry period may be: the theme is a
        prompt, and the voters judge the fit."""
        async with self._ballot:  # counted and written as one step, however fast the presses come
            return await self._enter(requester, job_id)

    async def can_enter(self, job: Job) -> bool:
        """Whether ``job`` may be entered in its chat's challenge now: the challenge takes entries and the
        figure is one it takes (see ``enter``) not entered yet. What decides an Enter challenge button under
        a delivered figure; the entry limit is left to ``enter``, whose answer says how to make room."""
        challenge = await self.current(job.requester)
        if challenge is None or challenge.phase is not Phase.SUBMISSIONS:
            return False
        entered = {entry.job_id for entry in await self.records.entries(challenge.id)}
        return _refusal(challenge, job, entered) is None

    async def _enter(self, requester: Requester, job_id: str | None) -> tuple[Challenge, int]:
        challenge = await self._current_or_explain(requester)
        if challenge.phase is not Phase.SUBMISSIONS:
            raise UserFacingError("Voting has started, so entries are closed.")
        entries = await self.records.entries(challenge.id)
        job = await self._entry_job(requester, challenge, job_id, {entry.job_id for entry in entries})
        mine = sum(_owned(entry, requester) for entry in entries)
        if mine >= challenge.entries_per_user:
            raise UserFacingError(
                f"You have entered {mine} figure{'s' if mine != 1 else ''}; the limit is "
                f"{challenge.entries_per_user}. Withdraw one first to enter another."
            )
        stored = await self.engine.figure_image(job)
        if stored is None:
            raise UserFacingError("That figure has expired; make a new one to enter.")
        number = await self.records.add_entry(
            challenge.id, requester.platform, requester.user_id, job.id, stored[0], stored[1], self.clock()
        )
        log_event(log, "challenge.entered", challenge=challenge.id, entry=number)
        return challenge, number

    async def _entry_job(
        self, requester: Requester, challenge: Challenge, job_id: str | None, entered: set[str]
    ) -> Job:
        """The figure to enter: the named one if the challenge takes it, else the latest it takes that is
        not entered yet."""
        if job_id is not None:
            job = await self.engine.own_job(job_id, requester)
            refusal = _refusal(challenge, job, entered)
            if refusal is not None:
                raise UserFacingError(refusal)
            return job
        taken = [job for job in await self.engine.finished_jobs(requester) if _fits(challenge, job)]
        for job in taken:  # newest first
            if job.id not in entered:
                return job
        since = f"made here since the {challenge.theme_name} challenge started"
        if taken:
            raise UserFacingError(
                f"Your figures {since} are all entered already. Make another one to enter it."
            )
        raise UserFacingError(f"You have no finished figure {since}. Make one, then enter it.")

    async def withdraw(self, requester: Requester) -> int:
        """Take back the requester's latest entry before voting starts; its number."""
        async with self._ballot:
            return await self._withdraw(requester)

    async def _withdraw(self, requester: Requester) -> int:
        challenge = await self._current_or_explain(requester)
        if challenge.phase is not Phase.SUBMISSIONS:
            raise UserFacingError("Voting has started, so entries can no longer be withdrawn.")
        mine = [entry for entry in await self.records.entries(challenge.id) if _owned(entry, requester)]
        if not mine:
            raise UserFacingError("You have no entry in this challenge.")
        await self.records.delete_entry(mine[-1].id)
        return mine[-1].number

    async def vote(self, requester: Requester, challenge_id: str, number: int) -> str:
        """Vote for Entry ``number``; what to tell the voter (privately)."""
        async with self._ballot:  # a double tap cannot cast two votes
            return await self._vote(requester, challenge_id, number)

    async def _vote(self, requester: Requester, challenge_id: str, number: int) -> str:
        challenge = await self.records.get(challenge_id)
        if challenge is None or (challenge.platform, challenge.chat_id) != (
            requester.platform,
            requester.chat_id,
        ):
            raise UserFacingError("That vote is not for a challenge in this chat.")
        if challenge.phase is Phase.SUBMISSIONS:
            raise UserFacingError("Voting has not started yet.")
        if challenge.phase is not Phase.VOTING:
            raise UserFacingError("Voting in that challenge is closed.")
        entries = {entry.number: entry for entry in await self.records.entries(challenge.id)}
        chosen = entries.get(number)
        if chosen is None:
            raise UserFacingError(f"There is no Entry {number}.")
        if _owned(chosen, requester):
            raise UserFacingError("You can't vote for your own entry.")
        given = await self.records.votes_of(challenge.id, requester.platform, requester.user_id)
        if chosen.id in given:
            return f"You already voted for Entry {number}."
        dropped = given[0] if len(given) >= challenge.votes_per_voter else None
        await self.records.replace_vote(
            challenge.id, requester.platform, requester.user_id, chosen.id, dropped, self.clock()
        )
        if dropped is not None:
            before = next((entry.number for entry in entries.values() if entry.id == dropped), None)
            return f"Your vote moved from Entry {before} to Entry {number}."
        return f"Your vote for Entry {number} is in. You can change it until voting closes."

    async def status(self, requester: Requester) -> tuple[Challenge, int, int]:
        """The chat's challenge, how many entries it has, and how many are the requester's."""
        challenge = await self._current_or_explain(requester)
        entries = await self.records.entries(challenge.id)
        return challenge, len(entries), sum(_owned(entry, requester) for entry in entries)

    async def leaderboard(self, requester: Requester) -> list[Standing]:
        return await self.records.leaderboard(requester.platform, requester.chat_id)

    async def move_chat(self, platform: str, old_chat_id: str, new_chat_id: str) -> int:
        """The chat got a new id (a Telegram group became a supergroup): its settings, challenges and
        leaderboard follow it; how many challenges moved."""
        await self.engine.move_chat_settings(platform, old_chat_id, new_chat_id)
        moved = await self.records.move_chat(platform, old_chat_id, new_chat_id)
        log_event(log, "challenge.chat_moved", platform=platform, challenges=moved)
        return moved

    # Phases

    async def _reload(self, challenge_id: str) -> Challenge:
        """The challenge as stored now (it was written a moment ago, so it is there)."""
        challenge = await self.records.get(challenge_id)
        assert challenge is not None
        return challenge

    async def _next_phase(self, challenge: Challenge) -> Challenge:
        """Submissions → voting (or closed, with no entries); voting → closed with results."""
        async with self._lock:
            now = self.clock()
            if challenge.phase is Phase.SUBMISSIONS and await self.records.entries(challenge.id):
                await self.records.renumber(challenge.id)
                changes = {"phase": Phase.VOTING, "vote_until": now + challenge.vote_for}
            else:
                changes = {"phase": Phase.CLOSED, "closed_at": now}
            if await self.records.change(challenge.id, (challenge.phase.value,), **changes):
                if changes["phase"] is Phase.CLOSED:
                    await self._save_results(challenge)
                log_event(log, "challenge.phase", challenge=challenge.id, phase=changes["phase"].value)
        return await self._announce(await self._reload(challenge.id))

    async def _placings(self, challenge: Challenge) -> list[Placing]:
        return rank(await self.records.entries(challenge.id), await self.records.tallies(challenge.id))

    async def _save_results(self, challenge: Challenge) -> None:
        """Keep the places with their points: a place on the podium scores if it got a vote."""
        placings = await self._placings(challenge)
        results = [(placing, POINTS.get(placing.place, 0) if placing.votes else 0) for placing in placings]
        await self.records.save_results(challenge, results)

    async def _announce(self, challenge: Challenge) -> Challenge:
        """Hand the phase change to the platform; mark it announced once the handler succeeded."""
        announcer = self._announcers.get(challenge.platform)
        if announcer is None or challenge.phase is Phase.SUBMISSIONS:
            return challenge
        async with self._announcing:  # a command and the deadline check may both get here: post once
            stored = await self.records.get(challenge.id)
            if stored is None or stored.announced == stored.phase or stored.phase != challenge.phase:
                return challenge
            challenge = stored  # as stored now: its chat may have moved meanwhile
            try:
                await announcer(await self._event(challenge))
            except Exception as error:
                self._failed(challenge, error)
                return challenge
            self._failures.pop(challenge.id, None)
            await self.records.change(challenge.id, (challenge.phase.value,), announced=challenge.phase)
        return challenge

    def _failed(self, challenge: Challenge, error: Exception) -> None:
        """Note a failed announcement: the first few are tried again at once, then less and less often
        (up to every ``RETRY_CEILING`` seconds), with one traceback and then one line per failure."""
        count = self._failures.get(challenge.id, (0, 0.0))[0] + 1
        delay = 0.0 if count <= QUICK_RETRIES else min(2.0 ** (count - QUICK_RETRIES), RETRY_CEILING)
        self._failures[challenge.id] = (count, self.clock() + delay)
        if isinstance(error, PlatformNotReady):
            log.debug("platform not connected; announcement waits", extra={"challenge": challenge.id})
        elif count == 1:
            log.error(
                "challenge announcement failed; will retry", exc_info=error, extra={"challenge": challenge.id}
            )
        else:
            log_event(
                log,
                "challenge.announce_failed",
                challenge=challenge.id,
                attempt=count,
                error=type(error).__name__,
            )

    async def _event(self, challenge: Challenge) -> ChallengeEvent:
        if challenge.phase is Phase.CANCELLED:
            return ChallengeEvent(ChallengeEventKind.CANCELLED, challenge)
        if challenge.phase is Phase.VOTING:
            entries = tuple(await self.records.entries(challenge.id))
            images = {entry.id: await self.records.image(entry.id) or b"" for entry in entries}
            return ChallengeEvent(ChallengeEventKind.VOTING, challenge, entries, images)
        results = tuple(await self._placings(challenge))
        shelf = await self._shelf(challenge, results) if results else None
        return ChallengeEvent(ChallengeEventKind.CLOSED, challenge, results=results, shelf=shelf)

    async def _shelf(self, challenge: Challenge, results: tuple[Placing, ...]) -> bytes | None:
        top = []
        for placing in results[:3]:
            image = await self.records.image(placing.entry.id)
            if image:
                top.append((placing.place, image))
        if not top:
            return None
        picture = await asyncio.to_thread(shelf_image, top, f"{challenge.theme_name}: the winners")
        return await asyncio.to_thread(encode_figure, picture, "png")


def _admins_only(is_admin: bool, what: str) -> None:
    if not is_admin:
        raise NotAllowed(f"Only this chat's admins can {what}.")


def _owned(entry: Entry, requester: Requester) -> bool:
    return entry.is_of(requester.platform, requester.user_id)


def _fits(challenge: Challenge, job: Job) -> bool:
    """Whether the challenge takes ``job``, entered or not (see ``_refusal``)."""
    return _refusal(challenge, job, set()) is None


def _refusal(challenge: Challenge, job: Job, entered: set[str]) -> str | None:
    """Why ``challenge`` does not take ``job`` as an entry (``entered``: the job ids already in it), or
    ``None`` when it does: a finished figure made in the challenge's chat during its entry period (at or
    after its start, before its entry deadline), not entered yet. Whether it is still stored is found
    when its image is read for the entry."""
    if (job.requester.platform, job.requester.chat_id) != (challenge.platform, challenge.chat_id):
        return "That figure was made in another chat; enter one you made in this chat."
    if job.created_at < challenge.created_at:
        return (
            f"That figure was made before the {challenge.theme_name} challenge started; "
            "make a new one to enter."
        )
    if job.created_at >= challenge.submit_until:
        return "That figure was made after entries closed."
    if job.status in ACTIVE:
        return "That figure is not finished yet; enter it once it is ready."
    if job.status is Status.FAILED:
        return "That figure could not be made, so there is nothing to enter."
    if job.status is Status.CANCELLED:
        return "That figure was cancelled, so there is nothing to enter."
    if job.id in entered:
        return "That figure is already entered."
    return None
