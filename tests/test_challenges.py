"""Theme challenges in the core: phases on a hand-moved clock, entries, votes, results, forget, catch-up."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.boxart.shelf import SIZE, shelf_image
from bot.challenge_types import ChallengeEvent, ChallengeEventKind, Entry, Phase, rank
from bot.challenges import ChallengeService, NotAllowed
from bot.errors import UserFacingError
from bot.generators.base import Refused
from bot.jobs import Job, Requester, Status
from bot.spec import make_spec
from tests.engine_kit import Clock, Rig, eventually, photo, rig, wait_for_status

pytestmark = pytest.mark.usefixtures("database")  # every test on SQLite and on Postgres

HOUR = 3600.0


@dataclass
class Contest:
    r: Rig
    clock: Clock
    service: ChallengeService
    said: list[ChallengeEvent] = field(default_factory=list)
    fail_announcements: int = 0
    tries: int = 0

    def member(self, user: str, chat: str = "party") -> Requester:
        return self.r.requester(user, chat)

    async def announce(self, event: ChallengeEvent) -> None:
        self.tries += 1
        if self.fail_announcements:
            self.fail_announcements -= 1
            raise ConnectionError("chat unreachable")
        self.said.append(event)

    async def figure(self, user: str, theme: str = "Space Week", chat: str = "party") -> str:
        """A finished figure of ``user`` made in ``chat``; its job id."""
        submitted = await self.r.engine.submit(
            self.member(user, chat), photo(), make_spec(name=user, theme=theme)
        )
        await wait_for_status(self.r.store, submitted.job_id, Status.DONE)
        return submitted.job_id

    async def later(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.service.tick()


@asynccontextmanager
async def contest(tmp_path: Path, **settings: Any) -> AsyncIterator[Contest]:
    clock = Clock()
    async with rig(tmp_path, clock=clock, max_active_jobs_per_user=0, **settings) as r:
        game = Contest(r, clock, ChallengeService(r.engine, r.store.challenges))
        game.service.subscribe("console", game.announce)
        yield game


async def test_a_challenge_runs_from_entries_to_a_crowned_winner(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        admin = game.member("admin")
        started = await game.service.begin(admin, "Space Week", "2h", "1h", is_admin=True)
        assert (started.phase, started.submit_until - game.clock.now) == (Phase.SUBMISSIONS, 2 * HOUR)
        for user in ("ann", "bob", "cy"):
            await game.figure(user)
            assert (await game.service.enter(game.member(user)))[1] == ["ann", "bob", "cy"].index(user) + 1
        await game.later(2 * HOUR)
        voting = game.said[-1]
        assert voting.kind is ChallengeEventKind.VOTING and [e.number for e in voting.entries] == [1, 2, 3]
        assert all(Image.open(io.BytesIO(voting.images[e.id])).size == (64, 96) for e in voting.entries)
        for voter, number in (("dan", 2), ("eve", 2), ("ann", 3)):
            await game.service.vote(game.member(voter), started.id, number)
        await game.later(HOUR)
        closed = game.said[-1]
        assert closed.kind is ChallengeEventKind.CLOSED
        assert [(p.place, p.entry.user_id, p.votes) for p in closed.results] == [
            (1, "bob", 2),
            (2, "cy", 1),
            (3, "ann", 0),
        ]
        with Image.open(io.BytesIO(closed.shelf)) as shelf:
            assert shelf.size == SIZE
        board = await game.service.leaderboard(admin)
        assert [(s.user_id, s.points, s.wins) for s in board] == [("bob", 3, 1), ("cy", 2, 0)]
        assert await game.service.current(admin) is None
        assert len(game.said) == 2  # nothing is announced twice


async def test_deadlines_that_passed_while_down_are_caught_up_at_start(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        challenge = await game.service.begin(game.member("admin"), "pirate", "90m", "30m", is_admin=True)
        await game.figure("ann", "pirate")
        await game.service.enter(game.member("ann"))
        game.clock.advance(5 * HOUR)  # the bot was down past the entry deadline
        restarted = ChallengeService(game.r.engine, game.r.store.challenges)
        restarted.subscribe("console", game.announce)
        await restarted.start()
        try:
            assert [event.kind for event in game.said] == [ChallengeEventKind.VOTING]
            assert (await restarted.current(game.member("x"))).vote_until == game.clock.now + 30 * 60
        finally:
            await restarted.stop()
        assert challenge.theme == "pirate"


async def test_a_failed_announcement_is_posted_on_the_next_check_once(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        await game.service.begin(game.member("admin"), "Space Week", "1h", is_admin=True)
        game.fail_announcements = 2  # the phase change's own try, and the retry in the same check
        await game.later(HOUR)  # no entries: it closes, and the chat cannot be reached
        assert game.said == []
        await game.later(1)
        await game.later(1)
        assert [(event.kind, event.results, event.shelf) for event in game.said] == [
            (ChallengeEventKind.CLOSED, (), None)
        ]


async def test_only_admins_start_advance_or_cancel(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        member = game.member("ann")
        with pytest.raises(NotAllowed, match="Only this chat's admins can start a challenge"):
            await game.service.begin(member, "Space Week", "1h", is_admin=False)
        await game.service.begin(member, "Space Week", "1h", is_admin=True)
        for step in (game.service.advance, game.service.cancel):
            with pytest.raises(NotAllowed):
                await step(member, is_admin=False)
        cancelled = await game.service.cancel(member, is_admin=True)
        assert cancelled.phase is Phase.CANCELLED
        assert [event.kind for event in game.said] == [ChallengeEventKind.CANCELLED]


async def test_one_open_challenge_per_chat_and_sane_durations(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        admin = game.member("admin")
        await game.service.begin(admin, "Space Week", "3d", is_admin=True)
        with pytest.raises(UserFacingError, match="already running here"):
            await game.service.begin(admin, "Ninja", "1h", is_admin=True)
        other = await game.service.begin(game.member("admin", "elsewhere"), "ninja", "1h", is_admin=True)
        assert other.vote_for == HOUR
        for text, problem in (
            ("2x", "not a duration"),
            ("10s", "between 1 minute"),
            ("31d", "between 1 minute"),
        ):
            with pytest.raises(UserFacingError, match=problem):
                await game.service.begin(game.member("a", "third"), "x", text, is_admin=True)
        with pytest.raises(UserFacingError, match="Give the challenge a theme"):
            await game.service.begin(game.member("a", "third"), "   ", "1h", is_admin=True)


async def test_entry_rules(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        ann = game.member("ann")
        with pytest.raises(UserFacingError, match="no challenge running in this chat"):
            await game.service.enter(ann)
        await game.service.begin(game.member("admin"), "Space Week", "1h", is_admin=True)
        with pytest.raises(
            UserFacingError,
            match=r"You have no finished figure made here since the Space Week challenge started\. Make one",
        ):
            await game.service.enter(ann)
        elsewhere = await game.figure("ann", chat="elsewhere")
        with pytest.raises(UserFacingError, match="made in another chat; enter one you made in this chat"):
            await game.service.enter(ann, elsewhere)
        first = await game.figure("ann")
        with pytest.raises(UserFacingError, match="can't find that figure among yours"):
            await game.service.enter(game.member("bob"), first)
        assert (await game.service.enter(ann, first))[1] == 1
        with pytest.raises(UserFacingError, match="already entered"):
            await game.service.enter(ann, first)
        await game.figure("ann")
        with pytest.raises(UserFacingError, match="You have entered 1 figure; the limit is 1"):
            await game.service.enter(ann)
        assert await game.service.withdraw(ann) == 1
        assert (await game.service.enter(ann))[1] == 1
        await game.later(HOUR)
        with pytest.raises(UserFacingError, match="entries are closed"):
            await game.service.enter(ann)
        with pytest.raises(UserFacingError, match="can no longer be withdrawn"):
            await game.service.withdraw(ann)


async def test_any_figure_made_in_the_chat_during_the_entry_period_can_be_entered(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        await game.service.begin(game.member("admin"), "Space Week", "1h", is_admin=True, entries_per_user=3)
        ann = game.member("ann")
        at_the_start = await game.figure("ann", "astronaut")  # as ``Nova | astronaut`` asks
        game.clock.advance(HOUR - 1)  # the last second of the entry period
        free_words = await game.figure("ann", "tea party")
        in_theme = await game.figure("ann")
        for job_id in (at_the_start, free_words, in_theme):
            assert await game.service.can_enter(await game.r.engine.own_job(job_id, ann))
            await game.service.enter(ann, job_id)
            assert not await game.service.can_enter(await game.r.engine.own_job(job_id, ann))
        challenge = await game.service.current(ann)
        entries = await game.service.records.entries(challenge.id)
        assert [entry.job_id for entry in entries] == [at_the_start, free_words, in_theme]


async def test_a_refused_entry_says_why_and_gets_no_enter_button(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        ann = game.member("ann")
        engine = game.r.engine
        before = await game.figure("ann")
        assert not await game.service.can_enter(await engine.own_job(before, ann))  # no challenge yet
        game.clock.advance(1)
        await game.service.begin(game.member("admin"), "Space Week", "1h", is_admin=True)
        elsewhere = await game.figure("ann", chat="elsewhere")
        game.r.generator.script = [Refused("The painter said no.")]
        failed = (await engine.submit(ann, photo(), make_spec(name="ann"))).job_id
        await wait_for_status(game.r.store, failed, Status.FAILED)
        game.r.generator.delay = 60.0  # paints until cancelled
        painting = (await engine.submit(ann, photo(), make_spec(name="ann"))).job_id
        await wait_for_status(game.r.store, painting, Status.RUNNING)
        refusals = {
            before: "That figure was made before the Space Week challenge started; make a new one to enter.",
            elsewhere: "That figure was made in another chat; enter one you made in this chat.",
            failed: "That figure could not be made, so there is nothing to enter.",
            painting: "That figure is not finished yet; enter it once it is ready.",
        }
        for job_id, reason in refusals.items():
            assert not await game.service.can_enter(await engine.own_job(job_id, ann))
            with pytest.raises(UserFacingError) as refused:
                await game.service.enter(ann, job_id)
            assert refused.value.message == reason
        await engine.cancel(painting, ann)
        assert not await game.service.can_enter(await engine.own_job(painting, ann))
        with pytest.raises(
            UserFacingError, match=r"^That figure was cancelled, so there is nothing to enter\.$"
        ):
            await game.service.enter(ann, painting)
        with pytest.raises(UserFacingError, match="no finished figure made here since the Space Week"):
            await game.service.enter(ann)  # none of them is taken without being named either
        game.r.generator.delay = 0.0
        game.clock.advance(HOUR)  # the deadline passed; the check that closes entries has not run yet
        late = await game.figure("ann")
        assert not await game.service.can_enter(await engine.own_job(late, ann))
        with pytest.raises(UserFacingError, match=r"^That figure was made after entries closed\.$"):
            await game.service.enter(ann, late)


async def test_a_figure_no_longer_stored_cannot_be_entered(tmp_path: Path) -> None:
    async with contest(tmp_path, figure_retention=0) as game:  # figures are gone once delivered
        await game.service.begin(game.member("admin"), "Space Week", "1h", is_admin=True)
        ann = game.member("ann")
        job = await game.r.engine.own_job(await game.figure("ann"), ann)
        await eventually(lambda: no_figure(game, job))
        assert await no_figure(game, job)
        with pytest.raises(UserFacingError, match=r"^That figure has expired; make a new one to enter\.$"):
            await game.service.enter(ann)


async def no_figure(game: Contest, job: Job) -> bool:
    return await game.r.engine.figure_image(job) is None


async def test_only_a_challenge_taking_entries_offers_to_enter(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        challenge = await game.service.begin(game.member("admin"), "Space Week", "1h", is_admin=True)
        ann, bob = game.member("ann"), game.member("bob")
        mine = await game.r.engine.own_job(await game.figure("ann"), ann)
        await game.figure("bob")
        await game.service.enter(bob)
        assert await game.service.can_enter(mine)
        await game.later(HOUR)
        assert (await game.service.current(ann)).id == challenge.id  # voting: entries are closed
        assert not await game.service.can_enter(mine)
        await game.later(challenge.vote_for)
        assert await game.service.current(ann) is None
        assert not await game.service.can_enter(mine)


async def test_vote_rules(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        challenge = await game.service.begin(game.member("admin"), "Space Week", "1h", "1h", is_admin=True)
        for user in ("ann", "bob"):
            await game.figure(user)
            await game.service.enter(game.member(user))
        voter = game.member("cy")
        with pytest.raises(UserFacingError, match="Voting has not started yet"):
            await game.service.vote(voter, challenge.id, 1)
        await game.later(HOUR)
        with pytest.raises(UserFacingError, match="your own entry"):
            await game.service.vote(game.member("ann"), challenge.id, 1)
        for forged in ("0" * 16, "not-an-id"):
            with pytest.raises(UserFacingError, match="not for a challenge in this chat"):
                await game.service.vote(voter, forged, 1)
        with pytest.raises(UserFacingError, match="not for a challenge in this chat"):
            await game.service.vote(game.member("cy", "elsewhere"), challenge.id, 1)
        with pytest.raises(UserFacingError, match="There is no Entry 9"):
            await game.service.vote(voter, challenge.id, 9)
        assert await game.service.vote(voter, challenge.id, 1) == (
            "Your vote for Entry 1 is in. You can change it until voting closes."
        )
        assert await game.service.vote(voter, challenge.id, 1) == "You already voted for Entry 1."
        assert await game.service.vote(voter, challenge.id, 2) == "Your vote moved from Entry 1 to Entry 2."
        assert await game.service.records.tallies(challenge.id) == {game.said[0].entries[1].id: 1}
        await game.later(HOUR)
        with pytest.raises(UserFacingError, match="closed"):
            await game.service.vote(voter, challenge.id, 1)


async def test_ties_share_a_place() -> None:
    entries = [Entry(f"e{n}", f"u{n}", f"j{n}", n, "png", "telegram") for n in (1, 2, 3, 4)]
    placings = rank(entries, {"e2": 2, "e3": 2, "e4": 1})
    assert [(p.place, p.entry.number, p.votes) for p in placings] == [
        (1, 2, 2),
        (1, 3, 2),
        (3, 4, 1),
        (4, 1, 0),
    ]


async def test_forgetting_removes_entries_and_votes_and_recounts(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        challenge = await game.service.begin(game.member("ann"), "Space Week", "1h", "1h", is_admin=True)
        for user in ("ann", "bob", "cy"):
            await game.figure(user)
            await game.service.enter(game.member(user))
        await game.later(HOUR)
        await game.service.vote(game.member("dan"), challenge.id, 1)  # for ann, who leaves
        await game.service.vote(game.member("bob"), challenge.id, 3)
        await game.service.vote(game.member("cy"), challenge.id, 2)
        await game.service.vote(game.member("ann"), challenge.id, 2)  # ann's own vote goes too
        counts = await game.r.engine.forget(game.member("ann"))
        assert (counts["challenge_entries"], counts["challenge_votes"]) == (1, 1)
        entries = await game.service.records.entries(challenge.id)
        assert [entry.user_id for entry in entries] == ["bob", "cy"]
        tallies = await game.service.records.tallies(challenge.id)
        assert sorted(tallies.values()) == [1, 1] and set(tallies) == {entry.id for entry in entries}
        row = await game.service.records.get(challenge.id)
        assert row.created_by is None
        await game.later(HOUR)
        assert {p.entry.user_id for p in game.said[-1].results} == {"bob", "cy"}


def test_the_shelf_shows_the_boxes_with_their_places() -> None:
    boxes = []
    for colour in ((200, 30, 30), (30, 200, 30), (30, 30, 200)):
        buffer = io.BytesIO()
        Image.new("RGB", (400, 600), colour).save(buffer, "PNG")
        boxes.append(buffer.getvalue())
    picture = shelf_image(list(zip((1, 2, 2), boxes, strict=True)), "Space Week: the winners")
    assert picture.size == SIZE
    columns = [picture.getpixel((SIZE[0] * (2 * i + 1) // 6, 700)) for i in range(3)]
    assert columns == [(200, 30, 30), (30, 200, 30), (30, 30, 200)]


async def test_entries_of_challenges_long_over_are_purged_with_their_figure_copies(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        challenge = await game.service.begin(game.member("admin"), "Space Week", "1h", "1h", is_admin=True)
        await game.figure("ann")
        await game.service.enter(game.member("ann"))
        await game.later(HOUR)  # voting opens
        await game.later(HOUR)  # and closes
        records = game.service.records
        assert await records.purge(game.clock.now - 60) == 0  # closed only just now: kept
        assert len(await records.entries(challenge.id)) == 1
        assert await records.purge(game.clock.now) == 1
        assert await records.entries(challenge.id) == []
        assert await game.service.leaderboard(game.member("x")) == []  # no votes, no points


async def test_a_command_and_the_deadline_check_announcing_at_once_post_once(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        admin = game.member("admin")
        await game.service.begin(admin, "Space Week", "1h", is_admin=True)
        game.clock.advance(HOUR)
        await asyncio.gather(game.service.advance(admin, is_admin=True), game.service.tick())
        assert [event.kind for event in game.said] == [ChallengeEventKind.CLOSED]


async def test_quick_double_presses_cannot_pass_the_vote_or_entry_limits(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        challenge = await game.service.begin(game.member("admin"), "Space Week", "1h", "1h", is_admin=True)
        ann = game.member("ann")
        first = await game.figure("ann")
        entered = await asyncio.gather(
            game.service.enter(ann, first), game.service.enter(ann, first), return_exceptions=True
        )
        assert sum(not isinstance(result, Exception) for result in entered) == 1
        await game.figure("bob")
        await game.service.enter(game.member("bob"))
        await game.later(HOUR)
        voter = game.member("cy")
        answers = await asyncio.gather(
            game.service.vote(voter, challenge.id, 1),
            game.service.vote(voter, challenge.id, 1),
            game.service.vote(voter, challenge.id, 2),
        )
        assert answers[1] == "You already voted for Entry 1."
        assert len(await game.service.records.votes_of(challenge.id, "console", "cy")) == 1


async def test_entering_without_naming_a_figure_takes_the_latest_one_not_entered_yet(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        ann = game.member("ann")
        await game.figure("ann")  # before the challenge: never taken
        game.clock.advance(1)
        await game.service.begin(game.member("admin"), "Space Week", "1h", is_admin=True, entries_per_user=3)
        older = await game.figure("ann", "pirate")
        game.clock.advance(1)
        newer = await game.figure("ann")
        await game.figure("ann", chat="elsewhere")  # newest, but made in another chat
        await game.service.enter(ann)
        await game.service.enter(ann)
        with pytest.raises(UserFacingError, match=r"are all entered already\. Make another one"):
            await game.service.enter(ann)
        challenge = await game.service.current(ann)
        assert [entry.job_id for entry in await game.service.records.entries(challenge.id)] == [newer, older]


async def test_deleting_an_entered_figure_takes_its_entry_and_votes_out(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        challenge = await game.service.begin(game.member("admin"), "Space Week", "1h", "1h", is_admin=True)
        figures = {}
        for user in ("ann", "bob"):
            figures[user] = await game.figure(user)
            await game.service.enter(game.member(user))
        await game.later(HOUR)
        await game.service.vote(game.member("cy"), challenge.id, 1)
        await game.r.engine.delete_figure(figures["ann"], game.member("ann"))
        entries = await game.service.records.entries(challenge.id)
        assert [entry.user_id for entry in entries] == ["bob"]
        assert await game.service.records.tallies(challenge.id) == {}


async def test_an_unreachable_chat_is_tried_less_and_less_often(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        await game.service.begin(game.member("admin"), "Space Week", "1h", is_admin=True)
        game.fail_announcements = 1000
        await game.later(HOUR)
        for _ in range(60):  # a minute of checks, one a second
            await game.later(1)
        assert 4 <= game.tries <= 10  # three quick tries, then after 2, 4, 8, 16, 32 s
        game.fail_announcements = 0
        await game.later(300)
        assert [event.kind for event in game.said] == [ChallengeEventKind.CLOSED]
        await game.later(1)
        assert len(game.said) == 1


async def test_entering_when_every_fitting_figure_is_entered_says_so(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        await game.service.begin(game.member("admin"), "Space Week", "1h", is_admin=True, entries_per_user=2)
        await game.figure("ann")
        await game.service.enter(game.member("ann"))
        with pytest.raises(UserFacingError, match=r"are all entered already\. Make another one"):
            await game.service.enter(game.member("ann"))


async def test_a_chat_that_gets_a_new_id_keeps_its_challenge_and_leaderboard(tmp_path: Path) -> None:
    async with contest(tmp_path) as game:
        challenge = await game.service.begin(game.member("admin"), "Space Week", "1h", "1h", is_admin=True)
        for user in ("ann", "bob"):
            await game.figure(user)
            await game.service.enter(game.member(user))
        await game.later(HOUR)
        await game.service.vote(game.member("cy"), challenge.id, 1)
        await game.later(HOUR)
        assert await game.service.move_chat("console", "party", "supergroup") == 1
        moved = game.member("x", "supergroup")
        assert [s.user_id for s in await game.service.leaderboard(moved)] == ["ann"]
        assert await game.service.leaderboard(game.member("x")) == []
