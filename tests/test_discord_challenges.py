"""Theme challenges on Discord end to end: the real discord.py client against the fake Discord, a real
engine, challenge service and SQLite store, and a hand-moved clock for the challenges' deadlines."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adapters.challenge_wording import results_text
from adapters.discord.announcements import Post
from adapters.discord.markup import MARKDOWN
from bot.boxart.shelf import SIZE
from bot.challenge_types import Entry, Placing
from bot.engine import NOT_YOURS
from bot.jobs import Status
from bot.spec import make_spec
from tests import test_discord
from tests.engine_kit import Clock, photo, wait_for_status
from tests.fakes.discord_api import ALL_PERMISSIONS, CHANNEL_ID, EPHEMERAL, FakeDiscord, User
from tests.test_discord import (
    ALICE,
    BOB,
    Bot,
    button,
    custom_ids,
    forged,
    held,
    private_answer,
    running,
)

CAROL = User(100_000_000_000_000_003, "Carol")
DAN = User(100_000_000_000_000_004, "Dan")
ERIN = User(100_000_000_000_000_005, "Erin")
JUDGES = 730_000_000_000_000_001  # a role of the test server
ADMIN = {"permissions": ALL_PERMISSIONS}
HOUR = 3600.0
CHANNEL_POSTS = rf"/channels/{CHANNEL_ID}/messages"

api = test_discord.api  # the fake Discord, as a fixture


async def public_answer(bot: Bot, interaction: dict[str, Any]) -> dict[str, Any]:
    """The message a command posted for the whole channel, after its private "thinking…" (now deleted).
    The fake holds the bot to Discord's rule: a follow-up that came while "thinking…" still showed would
    have taken its place, and stayed private."""
    deferred = await bot.run(interaction)
    assert deferred.json["type"] == 5 and deferred.json["data"]["flags"] & EPHEMERAL
    message = await bot.api.wait_for(lambda: next(iter(bot.api.followups(interaction)), None))
    assert not message["flags"] & EPHEMERAL
    await bot.api.wait_for(lambda: bot.api.original(interaction).get("_deleted"))
    return message


async def start(bot: Bot, theme: str = "Space Week", **options: Any) -> dict[str, Any]:
    """``/challenge start`` by Alice, a server admin; the public answer."""
    options = {"theme": theme, "duration": "2h", "voting": "1h", **options}
    return await public_answer(bot, bot.api.slash("challenge start", ALICE, **ADMIN, **options))


async def advance(bot: Bot) -> dict[str, Any]:
    return await public_answer(bot, bot.api.slash("challenge advance", ALICE, **ADMIN))


async def made(bot: Bot, user: User, theme: str = "Space Week") -> None:
    """A finished figure of ``user`` in the theme, made in the test channel straight through the engine."""
    spec = make_spec(name=user.name, theme=theme)
    submitted = await bot.engine.submit(bot.requester(user), photo(), spec)
    await wait_for_status(bot.store, submitted.job_id, Status.DONE)


async def entered(bot: Bot, user: User) -> str:
    """``/challenge enter`` by ``user``; the answer."""
    return await private_answer(bot, bot.api.slash("challenge enter", user))


async def posted(api: FakeDiscord, count: int) -> list[dict[str, Any]]:
    """The messages the bot posted in the channel, the latest first, once there are ``count``."""

    def check() -> list[dict[str, Any]] | None:
        messages = api.channel_messages()
        return messages[::-1] if len(messages) >= count else None

    return await api.wait_for(check)


async def vote(bot: Bot, ballot: dict[str, Any], number: int, user: User) -> str:
    custom_id = next(item for item in custom_ids(ballot) if item.endswith(f":{number}"))
    return await private_answer(bot, bot.api.press(bot.api.public(ballot), custom_id, user))


# -- the whole challenge ---------------------------------------------------------------------------------


async def test_a_challenge_from_start_to_a_winner_on_the_shelf(api: FakeDiscord, tmp_path: Path) -> None:
    clock = Clock()
    async with running(api, tmp_path, clock=clock) as bot:
        started = await start(bot, entries_per_member=1, votes_per_voter=1)
        deadline = int(clock.now + 2 * HOUR)
        assert started["content"] == (
            "🏆 New challenge: **Space Week**! Make a figure here with /figure (the figure takes the theme "
            "by itself), then enter it with its Enter challenge button or /challenge enter. Entries close "
            f"<t:{deadline}:f> (<t:{deadline}:R>); then everyone votes for 1 hour. 1 entry per member, "
            "1 vote per voter."
        )
        assert started["allowed_mentions"] == {"parse": []}

        # Bob gives no theme: his figure takes the challenge's, and says so; he enters it with its button.
        asked = await bot.figure(BOB, name="Bob")
        result = await bot.result(asked)
        assert result["embeds"][0]["fields"][0] == {"name": "Theme", "value": "Space Week", "inline": True}
        status = await api.wait_original(asked, lambda message: "ready" in message["content"])
        assert status["content"] == (
            "✅ Bob (Space Week) is ready.\n🏆 In the theme of this channel's Space Week challenge."
        )
        enter = button(result, "fig:enter:")
        assert await private_answer(bot, api.press(api.public(result), enter, CAROL)) == NOT_YOURS
        pressed = await private_answer(bot, api.press(api.public(result), enter, BOB))
        assert pressed == "Entered: your figure is entry 1 in the Space Week challenge."
        again = await private_answer(bot, api.press(api.public(result), enter, BOB))
        assert again == "That figure is already entered."

        # A figure in another theme can be entered too (voters judge the fit); /challenge enter takes the
        # latest figure, so Dan's Space Week one below goes in rather than this pirate.
        pirate = await bot.result(await bot.figure(DAN, name="Dan", theme="pirate"))
        assert [item for item in custom_ids(pirate) if item.startswith("fig:enter:")]
        for number, user in enumerate((CAROL, DAN), start=2):
            await bot.result(await bot.figure(user, name=user.name, theme="Space Week"))
            answer = await entered(bot, user)
            assert answer == f"Entered: your figure is entry {number} in the Space Week challenge."
        await bot.idle()

        moved = await advance(bot)
        closes = int(clock.now + HOUR)
        assert moved["content"] == (
            f"⏩ <@{ALICE.id}> opened the voting in the **Space Week** challenge; it closes "
            f"<t:{closes}:f> (<t:{closes}:R>)."
        )
        (ballot,) = await posted(api, 1)
        assert ballot["content"] == (
            "🗳️ Voting is open in the **Space Week** challenge! The entries are shown without their makers' "
            "names. Press an entry's button to vote: 1 vote each, not for your own. You can change your mind "
            f"until voting closes <t:{closes}:f> (<t:{closes}:R>)."
        )
        assert [embed["title"] for embed in ballot["embeds"]] == ["Entry 1", "Entry 2", "Entry 3"]
        shown = json.dumps(ballot)
        assert not any(name in shown for user in (BOB, CAROL, DAN) for name in (user.name, str(user.id)))
        pictures = api.files[int(ballot["id"])]
        assert [picture.filename for picture in pictures] == ["entry-1.jpg", "entry-2.jpg", "entry-3.jpg"]
        assert ballot["embeds"][1]["image"]["url"] == "attachment://entry-2.jpg"
        with Image.open(io.BytesIO(pictures[0].data)) as picture:
            assert picture.format == "JPEG"
        challenge = await bot.challenges.current(bot.requester(ALICE))
        assert custom_ids(ballot) == [f"ch:vote:{challenge.id}:{number}" for number in (1, 2, 3)]

        assert await vote(bot, ballot, 2, ERIN) == (
            "Your vote for Entry 2 is in. You can change it until voting closes."
        )
        assert await vote(bot, ballot, 2, ALICE) == (
            "Your vote for Entry 2 is in. You can change it until voting closes."
        )
        assert await vote(bot, ballot, 3, BOB) == (
            "Your vote for Entry 3 is in. You can change it until voting closes."
        )

        closed = await advance(bot)
        assert closed["content"] == f"⏩ <@{ALICE.id}> closed the **Space Week** challenge."
        results, _ = await posted(api, 2)
        assert results["content"] == "\n".join(
            [
                "🏁 The **Space Week** challenge is over! The results:",
                f"🥇 Entry 2 by <@{CAROL.id}>: 2 votes",
                f"🥈 Entry 3 by <@{DAN.id}>: 1 vote",
                f"🥉 Entry 1 by <@{BOB.id}>: 0 votes",
                f"🏆 Congratulations, <@{CAROL.id}>!",
            ]
        )
        assert results["allowed_mentions"] == {"parse": []}  # named, not pinged
        (shelf,) = api.files[int(results["id"])]
        with Image.open(io.BytesIO(shelf.data)) as picture:
            assert (shelf.filename, picture.format, picture.size) == ("winners.png", "PNG", SIZE)

        board = await private_answer(bot, api.slash("challenge leaderboard", ERIN))
        assert board.splitlines()[1:] == [
            f"1. <@{CAROL.id}>: 3 points, 1 win",
            f"2. <@{DAN.id}>: 2 points, 0 wins",
        ]
        await bot.idle()
        assert len(api.channel_messages()) == 2  # nothing was announced twice


# -- who may run a challenge -----------------------------------------------------------------------------


async def test_only_admins_or_the_challenge_role_start_advance_or_cancel(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path) as bot:
        # No GUILD_CREATE: discord.py knows none of the server's roles; the interaction carries the ids.
        judge = {"roles": (JUDGES,)}
        attempts = {
            "start": ({"theme": "pirate", "duration": "1h"}, "start a challenge"),
            "advance": ({}, "move a challenge on"),
            "cancel": ({}, "cancel a challenge"),
        }
        for command, (options, what) in attempts.items():
            refused = await private_answer(bot, api.slash(f"challenge {command}", BOB, **judge, **options))
            assert refused == f"Only this chat's admins can {what}."

        refused = await private_answer(bot, api.slash("figure-settings", BOB, challenge_role=f"<@&{JUDGES}>"))
        assert "Manage Server" in refused
        saved = await private_answer(
            bot, api.slash("figure-settings", ALICE, challenge_role=f"<@&{JUDGES}>", **ADMIN)
        )
        assert f"• who runs challenges: members with Manage Server and the role <@&{JUDGES}>" in saved
        assert (await bot.engine.chat_settings(bot.requester(ALICE))).admin_role == str(JUDGES)

        options = {"theme": "pirate", "duration": "1h"}
        started = await public_answer(bot, api.slash("challenge start", BOB, **judge, **options))
        assert started["content"].startswith("🏆 New challenge: **Pirate**!")
        refused = await private_answer(bot, api.slash("challenge cancel", CAROL))
        assert refused == "Only this chat's admins can cancel a challenge."
        cancelled = await public_answer(bot, api.slash("challenge cancel", BOB, **judge))
        assert cancelled["content"] == f"🚫 <@{BOB.id}> cancelled the **Pirate** challenge."
        (notice,) = await posted(api, 1)
        assert (
            notice["content"] == "🚫 The **Pirate** challenge is called off: no voting, no winner this time."
        )

        bad = await private_answer(
            bot, api.slash("figure-settings", ALICE, challenge_role="@Judges", **ADMIN)
        )
        assert bad == "I can't read '@Judges' as a role: mention one like @Judges, or write none."
        cleared = await private_answer(
            bot, api.slash("figure-settings", ALICE, challenge_role="none", **ADMIN)
        )
        assert cleared.endswith("\n• who runs challenges: members with Manage Server")
        assert (await bot.engine.chat_settings(bot.requester(ALICE))).admin_role is None
        refused = await private_answer(bot, api.slash("challenge start", BOB, **judge, **options))
        assert refused == "Only this chat's admins can start a challenge."


async def test_bad_or_hostile_challenge_options(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path) as bot:
        for options, expected in (
            ({"duration": "soon"}, "The entry period 'soon' is not a duration; write e.g. 90m, 2h or 3d."),
            ({"duration": "10s"}, "The entry period must be between 1 minute and 30 days."),
            ({"voting": "40d"}, "The voting period must be between 1 minute and 30 days."),
            ({"theme": "   "}, "Give the challenge a theme, e.g. Space Week."),
            ({"theme": "x" * 100}, "That theme is 100 characters long; the limit is 40."),
            ({"votes_per_voter": 50}, "Entries per member and votes per voter must be between 1 and 10."),
        ):
            interaction = api.slash(
                "challenge start", ALICE, **ADMIN, **{"theme": "ninja", "duration": "1h", **options}
            )
            answer = await private_answer(bot, interaction)
            assert answer == expected
        other = CHANNEL_ID + 1
        await private_answer(bot, api.slash("figure-settings", ALICE, channels=f"<#{other}>", **ADMIN))
        elsewhere = await private_answer(
            bot, api.slash("challenge start", ALICE, **ADMIN, **{"theme": "ninja", "duration": "1h"})
        )
        assert elsewhere == f"I make figures only in <#{other}> on this server."
        await private_answer(bot, api.slash("figure-settings", ALICE, channels="all", **ADMIN))
        hostile = await start(bot, theme="@everyone **Bold**")
        assert hostile["content"].startswith("🏆 New challenge: **@\u200beveryone \\*\\*Bold\\*\\***!")
        again = await private_answer(
            bot, api.slash("challenge start", ALICE, **ADMIN, theme="ninja", duration="1h")
        )
        assert again == "A challenge is already running here; finish or cancel it first."
        assert not api.channel_messages()


# -- entering, status and leaderboard ------------------------------------------------------------------


async def test_status_enter_withdraw_and_leaderboard(api: FakeDiscord, tmp_path: Path) -> None:
    clock = Clock()
    async with running(api, tmp_path, clock=clock) as bot:
        nothing = "There is no challenge running in this chat. An admin can start one."
        assert await private_answer(bot, api.slash("challenge status", BOB)) == nothing
        assert await entered(bot, BOB) == nothing
        board = await private_answer(bot, api.slash("challenge leaderboard", BOB))
        assert board == "No one has points here yet: places in finished challenges earn them."

        await start(bot)
        deadline = int(clock.now + 2 * HOUR)
        assert await entered(bot, BOB) == (
            "You have no finished figure made here since the Space Week challenge started. "
            "Make one, then enter it."
        )
        await made(bot, BOB)
        await made(bot, CAROL)
        assert await entered(bot, BOB) == "Entered: your figure is entry 1 in the Space Week challenge."
        status = await private_answer(bot, api.slash("challenge status", BOB))
        assert status == (
            f"🏆 **Space Week** challenge: entries close <t:{deadline}:f> (<t:{deadline}:R>). "
            "1 entry so far, 1 of them yours (up to 1 each)."
        )
        withdrawn = await private_answer(bot, api.slash("challenge withdraw", BOB))
        assert withdrawn == "Withdrawn: entry 1 is out of the challenge."
        assert await private_answer(bot, api.slash("challenge withdraw", BOB)) == (
            "You have no entry in this challenge."
        )
        await entered(bot, BOB)
        await entered(bot, CAROL)
        await advance(bot)
        status = await private_answer(bot, api.slash("challenge status", DAN))
        assert status.startswith("🗳️ **Space Week** challenge: voting closes <t:")
        assert status.endswith("2 entries; vote with the buttons under them (1 vote each).")
        assert await entered(bot, BOB) == "Voting has started, so entries are closed."
        (ballot,) = await posted(api, 1)
        await vote(bot, ballot, 1, DAN)  # Bob's entry, number 1 after the withdrawal left a gap
        await advance(bot)
        board = await private_answer(bot, api.slash("challenge leaderboard", DAN))
        assert board == "\n".join(
            [
                "🏆 Leaderboard of this channel's challenges (points: 3 for place 1, 2 for place 2, "
                "1 for place 3):",
                f"1. <@{BOB.id}>: 3 points, 1 win",
            ]
        )


# -- votes -----------------------------------------------------------------------------------------------


async def test_vote_rules_and_forged_or_stale_vote_buttons(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path, clock=Clock()) as bot:
        await start(bot)
        for user in (BOB, CAROL):
            await made(bot, user)
            await entered(bot, user)
        result = await bot.result(await bot.figure(DAN, name="Dan"))
        challenge = await bot.challenges.current(bot.requester(ALICE))
        early = forged(api.public(result), f"ch:vote:{challenge.id}:1")
        early_vote = await private_answer(bot, api.press(early, f"ch:vote:{challenge.id}:1", DAN))
        assert early_vote == "Voting has not started yet."

        await advance(bot)
        (ballot,) = await posted(api, 1)
        assert await vote(bot, ballot, 1, BOB) == "You can't vote for your own entry."
        assert await vote(bot, ballot, 1, DAN) == (
            "Your vote for Entry 1 is in. You can change it until voting closes."
        )
        assert await vote(bot, ballot, 1, DAN) == "You already voted for Entry 1."
        assert await vote(bot, ballot, 2, DAN) == "Your vote moved from Entry 1 to Entry 2."
        late_entry = await private_answer(
            bot, api.press(api.public(result), button(result, "fig:enter:"), DAN)
        )
        assert late_entry == "Voting has started, so entries are closed."

        message = api.public(ballot)
        for custom_id, expected in (
            ("ch:vote:ffffffffffffffff:1", "That vote is not for a challenge in this chat."),
            (f"ch:vote:{challenge.id}:9999", "There is no Entry 9999."),
        ):
            answer = await private_answer(bot, api.press(forged(message, custom_id), custom_id, DAN))
            assert answer == expected
        elsewhere = {**message, "channel_id": str(CHANNEL_ID + 1)}
        moved = await private_answer(bot, api.press(elsewhere, f"ch:vote:{challenge.id}:1", DAN))
        assert moved == "That vote is not for a challenge in this chat."
        for custom_id in (
            "ch:vote:../../x:1",
            f"ch:vote:{challenge.id}:-1",
            f"ch:vote:{challenge.id}:1" + "0" * 50,
        ):
            await api.dispatch(api.press(forged(message, custom_id), custom_id, DAN))  # match no button

        await advance(bot)
        assert await vote(bot, ballot, 1, ERIN) == "Voting in that challenge is closed."
        results, _ = await posted(api, 2)
        assert f"🥇 Entry 2 by <@{CAROL.id}>: 1 vote" in results["content"]
        await bot.idle()


async def test_ties_share_a_place_and_no_votes_or_no_entries_say_so(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path, clock=Clock()) as bot:
        await start(bot)
        await advance(bot)
        (empty,) = await posted(api, 1)
        assert empty["content"] == (
            "🏁 The **Space Week** challenge closed without entries, so there is no winner this time."
        )

        await start(bot, theme="pirate")
        for user in (BOB, CAROL, DAN):
            await made(bot, user, "pirate")
            await entered(bot, user)
        await advance(bot)
        ballot, _ = await posted(api, 2)
        await vote(bot, ballot, 1, ERIN)
        await vote(bot, ballot, 2, ALICE)
        await advance(bot)
        results, _, _ = await posted(api, 3)
        assert results["content"].splitlines()[1:] == [
            f"🥇 Entry 1 by <@{BOB.id}>: 1 vote (tie)",
            f"🥇 Entry 2 by <@{CAROL.id}>: 1 vote (tie)",
            f"🥉 Entry 3 by <@{DAN.id}>: 0 votes",
            f"🏆 Congratulations, <@{BOB.id}>, <@{CAROL.id}>!",
        ]
        assert api.files[int(results["id"])][0].filename == "winners.png"

        await start(bot, theme="ninja")
        await made(bot, BOB, "ninja")
        await entered(bot, BOB)
        await advance(bot)
        await advance(bot)
        unvoted, _, _, _, _ = await posted(api, 5)
        assert unvoted["content"] == (
            "🏁 The **Ninja** challenge closed with 1 entry but no votes, so there is no winner this time."
        )
        assert int(unvoted["id"]) not in api.files  # no shelf without a winner


# -- deadlines and failures ------------------------------------------------------------------------------


async def test_deadlines_post_the_ballot_and_results_even_after_a_restart(
    api: FakeDiscord, tmp_path: Path
) -> None:
    clock = Clock()
    async with running(api, tmp_path, clock=clock) as bot:
        await start(bot)
        for user in (BOB, CAROL):
            await made(bot, user)
            await entered(bot, user)
        clock.advance(2 * HOUR)
        await asyncio.gather(bot.challenges.tick(), bot.challenges.tick())  # two checks at once: one post
        (ballot,) = await posted(api, 1)
        assert [embed["title"] for embed in ballot["embeds"]] == ["Entry 1", "Entry 2"]
    clock.advance(HOUR)  # voting closed while the bot was away
    async with running(api, tmp_path, clock=clock) as bot:
        results, _ = await posted(api, 2)  # announced once Discord is reachable again
        assert results["content"].startswith(
            "🏁 The **Space Week** challenge closed with 2 entries but no votes"
        )
        assert (
            await vote(bot, ballot, 1, DAN) == "Voting in that challenge is closed."
        )  # the old buttons still answer
    assert len(api.channel_messages()) == 2


async def test_a_failed_announcement_is_posted_on_the_next_check_once(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path, clock=Clock()) as bot:
        await start(bot)
        await made(bot, BOB)
        await entered(bot, BOB)
        api.fail("POST", CHANNEL_POSTS, 503)  # Discord has a bad moment
        moved = await advance(bot)
        assert moved["content"].startswith(f"⏩ <@{ALICE.id}> opened the voting")
        assert not api.channel_messages()
        await bot.challenges.tick()
        (ballot,) = await posted(api, 1)
        assert ballot["embeds"][0]["title"] == "Entry 1"
        assert [sent.status for sent in api.requests("POST", CHANNEL_POSTS)] == [503, 200]
        await bot.challenges.tick()
        assert len(api.channel_messages()) == 1


async def test_many_entries_are_shown_ten_a_message_and_a_failure_midway_repeats_nothing(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path, clock=Clock()) as bot:
        await start(bot)
        members = [User(100_000_000_000_000_100 + index, f"Member {index}") for index in range(11)]
        for member in members:
            await made(bot, member)
            await entered(bot, member)
        api.fail("POST", CHANNEL_POSTS, 503, after=1)  # the second message fails
        await advance(bot)
        await bot.challenges.tick()
        first, second = (await posted(api, 2))[::-1]
        assert [sent.status for sent in api.requests("POST", CHANNEL_POSTS)] == [200, 503, 200]
        assert len(first["embeds"]) == len(api.files[int(first["id"])]) == 10
        assert len(custom_ids(first)) == 10 and len(first["components"]) == 2
        assert second["content"] == "More entries of the **Space Week** challenge:"
        assert [embed["title"] for embed in second["embeds"]] == ["Entry 11"]
        assert custom_ids(second)[0].endswith(":11")


@pytest.mark.parametrize(
    ("status", "code"),
    [(403, 50013), (404, 10003), (400, 50035)],  # Missing Permissions, Unknown Channel, Invalid Form Body
)
async def test_a_post_discord_refuses_for_good_is_given_up_after_one_try(
    api: FakeDiscord, tmp_path: Path, status: int, code: int
) -> None:
    async with running(api, tmp_path, clock=Clock()) as bot:
        await start(bot)
        api.fail("POST", CHANNEL_POSTS, status, code=code)
        closed = await advance(bot)  # no entries: it closes
        assert closed["content"] == f"⏩ <@{ALICE.id}> closed the **Space Week** challenge."
        await bot.challenges.tick()
        assert [sent.status for sent in api.requests("POST", CHANNEL_POSTS)] == [status]
        assert await private_answer(bot, api.slash("challenge status", BOB)) == (
            "There is no challenge running in this chat. An admin can start one."
        )


async def test_ballots_that_went_out_before_a_restart_are_not_posted_again(
    api: FakeDiscord, tmp_path: Path
) -> None:
    clock = Clock()
    async with running(api, tmp_path, clock=clock) as bot:
        await start(bot)
        for index in range(11):
            member = User(100_000_000_000_000_100 + index, f"Member {index}")
            await made(bot, member)
            await entered(bot, member)
        api.fail("POST", CHANNEL_POSTS, 503, after=1, times=1000)  # the second message fails for a while
        await advance(bot)
        await api.wait_for(lambda: len(api.requests("POST", CHANNEL_POSTS)) >= 2)
    api.heal()
    async with running(api, tmp_path, clock=clock) as bot:
        await posted(api, 2)
        await bot.challenges.tick()  # after the announcement is marked done
        first, second = api.channel_messages()
        assert first["content"].startswith("🗳️ Voting is open") and len(first["embeds"]) == 10
        assert second["content"] == "More entries of the **Space Week** challenge:"
        assert [sent.status for sent in api.requests("POST", CHANNEL_POSTS)][-1] == 200


def test_results_with_many_tied_winners_fit_in_one_message() -> None:
    users = [str(10**19 + number) for number in range(1, 46)]
    results = tuple(  # a ring of single votes: all 45 tie for first place
        Placing(1, Entry(f"e{number}", user, f"j{number}", number, "png", "discord"), 1)
        for number, user in enumerate(users, start=1)
    )
    text = results_text(MARKDOWN, "x" * 40, results)
    assert len(text) <= 2000
    assert text.endswith(
        f"🏆 Congratulations, {', '.join(f'<@{user}>' for user in users[:10])}, …and 35 more!"
    )
    assert len(Post("x" * 3000).options()["content"]) == 2000  # and no announcement is longer


async def test_enter_and_vote_buttons_answer_before_the_store_writes(
    api: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(api, tmp_path, clock=Clock()) as bot:
        await start(bot)
        result = await bot.result(await bot.figure(BOB, name="Bob"))
        entering = held(monkeypatch, bot.challenges, "enter")
        enter = api.press(api.public(result), button(result, "fig:enter:"), BOB)
        assert (await bot.run(enter)).json["type"] == 5
        entering.set()
        answered = await api.wait_original(enter, lambda message: message["content"] != "")
        assert answered["content"] == "Entered: your figure is entry 1 in the Space Week challenge."

        await advance(bot)
        (ballot,) = await posted(api, 1)
        voting = held(monkeypatch, bot.challenges, "vote")
        press = api.press(api.public(ballot), custom_ids(ballot)[0], CAROL)
        assert (await bot.run(press)).json["type"] == 5
        voting.set()
        voted = await api.wait_original(press, lambda message: message["content"] != "")
        assert voted["content"].startswith("Your vote for Entry 1 is in.")
