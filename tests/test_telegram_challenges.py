"""Theme challenges in a Telegram group end to end: the real python-telegram-bot against the fake Bot API,
a real engine, challenge service and SQLite store, and a hand-moved clock for the challenges' deadlines."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from adapters.telegram.markup import Html, escaped
from bot.boxart.shelf import SIZE
from bot.engine import NOT_YOURS
from bot.jobs import Requester
from bot.spec import make_spec
from bot.store.tables import challenge_results, challenges
from tests.engine_kit import Clock, eventually, photo, wait_until
from tests.fakes.telegram_api import BOT_USERNAME, Call, FakeTelegram
from tests.test_telegram import ANONYMOUS_ADMIN, PHOTO, Bot, answer, button, next_figure, running_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
GROUP = FakeTelegram.group()
CHAT = GROUP["id"]
ANN = FakeTelegram.user(1001, "Ann", "ann_admin")
BOB = FakeTelegram.user(1002, "Bob", "bob_b")
CY = FakeTelegram.user(1003, "Cy")
DAN = FakeTelegram.user(1004, "Dan", "dan_d")
EVE = FakeTelegram.user(1005, "Eve")
HOUR = 3600.0
# Members as results and the leaderboard name them: linked, under the name the group knows them by.
BOBS = '<a href="tg://user?id=1002">@bob_b</a>'
CYS = '<a href="tg://user?id=1003">Cy</a>'
DANS = '<a href="tg://user?id=1004">@dan_d</a>'
STALE = "That button is not there any more; use the ones shown now."
NOT_MINE = "That button is not one of mine."


async def said(api: FakeTelegram, user: dict[str, Any], text: str, chat: dict[str, Any] = GROUP) -> str:
    """What the bot answered to ``user`` writing ``text`` in ``chat``."""
    message = api.send_text(user, text, chat=chat)
    return (await replied(api, message)).params["text"]


async def replied(api: FakeTelegram, message: dict[str, Any]) -> Call:
    return await api.wait_for(
        lambda c: (
            c.method == "sendMessage"
            and c.chat_id == message["chat"]["id"]
            and c.params.get("reply_parameters", {}).get("message_id") == message["message_id"]
        )
    )


async def made(bot: Bot, user: dict[str, Any], theme: str = "Space Week") -> None:
    """A figure of ``user`` in the theme, made in the group straight through the engine, and delivered."""
    requester = Requester("telegram", str(user["id"]), str(CHAT))
    submitted = await bot.engine.submit(requester, photo(), make_spec(name=user["first_name"], theme=theme))
    await wait_until(bot.store, submitted.job_id, lambda job: job.delivered_at is not None)


async def started_with_entries(api: FakeTelegram, bot: Bot) -> None:
    """Ann starts a Space Week challenge (2 h, then 1 h of voting); Bob and Cy make figures and enter."""
    await said(api, ANN, "/challenge start Space Week 2h 1h")
    for user in (BOB, CY):
        await made(bot, user)
        await said(api, user, "/challenge enter")


async def ballot(api: FakeTelegram) -> Call:
    """The message with the vote buttons."""
    return await api.wait_for(lambda c: c.method == "sendMessage" and "Voting is open" in c.params["text"])


async def vote(api: FakeTelegram, user: dict[str, Any], ballot: Call, number: int) -> dict[str, Any]:
    """``user`` taps the button of entry ``number``; the bot's answer."""
    pressed = api.press(user, ballot.result, button(ballot, f"Entry {number}"))
    return (await answer(api, pressed)).params


async def test_a_challenge_from_start_to_the_winner_on_the_shelf(tmp_path: Path) -> None:
    clock = Clock()
    async with FakeTelegram() as api, running_bot(tmp_path, api, clock=clock) as bot:
        api.make_admin(GROUP, ANN)
        assert await said(api, ANN, "/challenge start Space Week 2h 1h") == (
            f"🏆 New challenge: <b>Space Week</b>! Send a photo here with a caption like “@{BOT_USERNAME} "
            "Alex” (the figure takes the theme by itself), then enter it with its Enter challenge button or "
            "/challenge enter. Entries close in 2 hours; then everyone votes for 1 hour. 1 entry per member, "
            "1 vote per voter."
        )
        # Three members make figures; a caption without a theme takes the challenge's.
        made_by = {}
        for index, user in enumerate((BOB, CY, DAN)):
            api.send_photo(user, PHOTO, caption=f"@{BOT_USERNAME} {user['first_name']}", chat=GROUP)
            made_by[user["id"]] = figure = await next_figure(api, CHAT, after=index)
            assert figure.params["caption"] == f"{user['first_name']} (Space Week)"
        bobs = made_by[BOB["id"]]
        enter = button(bobs, "Enter challenge")
        assert (await answer(api, api.press(CY, bobs.result, enter))).params["text"] == NOT_YOURS
        entered = await answer(api, api.press(BOB, bobs.result, enter))
        assert entered.params["text"] == "Entered: your figure is entry 1 in the Space Week challenge."
        for number, user in ((2, CY), (3, DAN)):
            assert await said(api, user, f"/challenge@{BOT_USERNAME} enter") == (
                f"Entered: your figure is entry {number} in the Space Week challenge."
            )
        assert await said(api, CY, "/challenge status") == (
            "🏆 <b>Space Week</b> challenge: entries close in 2 hours. 3 entries so far, 1 of them yours "
            "(up to 1 each)."
        )

        # The admin opens the voting: one album of the entries, without names, then the vote buttons.
        api.send_text(ANN, "/challenge advance", chat=GROUP)
        votes = await ballot(api)
        (album,) = api.sent("sendMediaGroup", CHAT)
        assert [item["caption"] for item in album.params["media"]] == ["Entry 1", "Entry 2", "Entry 3"]
        assert all(Image.open(io.BytesIO(data)).size == (64, 96) for data in album.files.values())
        assert album.at < votes.at
        assert votes.params["text"] == (
            "🗳️ Voting is open in the <b>Space Week</b> challenge! The entries are shown without their "
            "makers' names. Press an entry's button to vote: 1 vote each, not for your own. You can change "
            "your mind until voting closes in 1 hour."
        )
        assert [b["text"] for b in votes.buttons] == ["🗳 Entry 1", "🗳 Entry 2", "🗳 Entry 3"]
        shown = json.dumps([album.params, votes.params])
        assert not any(name in shown for name in ("Bob", "bob_b", "Cy", "Dan", "dan_d"))
        assert await said(api, EVE, "/challenge status") == (
            "🗳️ <b>Space Week</b> challenge: voting closes in 1 hour. 3 entries; vote with the buttons "
            "under them (1 vote each)."
        )

        # Votes are answered with an alert; no votes for oneself, and a second tap changes nothing.
        first = await vote(api, EVE, votes, 1)
        assert (first["text"], first["show_alert"]) == (
            "Your vote for Entry 1 is in. You can change it until voting closes.",
            True,
        )
        assert (await vote(api, EVE, votes, 1))["text"] == "You already voted for Entry 1."
        assert (await vote(api, BOB, votes, 1))["text"] == "You can't vote for your own entry."
        for voter, number in ((ANN, 1), (DAN, 1), (BOB, 2), (CY, 3)):
            assert (await vote(api, voter, votes, number))["text"].startswith(f"Your vote for Entry {number}")

        # The admin closes it: the results, winners named as the group knows them, and the shelf.
        api.send_text(ANN, "/challenge advance", chat=GROUP)
        results = await api.wait_for_text(CHAT, "challenge is over")
        assert results["text"] == (
            "🏁 The <b>Space Week</b> challenge is over! The results:\n"
            f"🥇 Entry 1 by {BOBS}: 3 votes\n"
            f"🥈 Entry 2 by {CYS}: 1 vote (tie)\n"
            f"🥈 Entry 3 by {DANS}: 1 vote (tie)\n"
            f"🏆 Congratulations, {BOBS}!"
        )
        shelf = await api.wait_for(
            lambda c: c.method == "sendPhoto" and "on the shelf" in c.params.get("caption", "")
        )
        assert shelf.params["caption"] == "🏆 The <b>Space Week</b> winners on the shelf"
        assert shelf.params["parse_mode"] == "HTML"
        assert Image.open(io.BytesIO(shelf.files["photo"])).size == SIZE
        assert (await vote(api, EVE, votes, 2))["text"] == "Voting in that challenge is closed."
        assert await said(api, EVE, "/challenge leaderboard") == (
            "🏆 Leaderboard of this group's challenges "
            "(points: 3 for place 1, 2 for place 2, 1 for place 3):\n"
            f"1. {BOBS}: 3 points, 1 win\n"
            f"2. {CYS}: 2 points, 0 wins\n"
            f"3. {DANS}: 2 points, 0 wins"
        )
        assert await said(api, EVE, "/challenge status") == (
            "There is no challenge running in this chat. An admin can start one."
        )
        await bot.challenges.tick()
        announced = [text for text in api.texts(CHAT) if text.startswith(("🗳️ Voting", "🏁", "🏆 The"))]
        assert len(api.sent("sendMediaGroup")) == 1 and len(announced) == 3


async def test_only_the_groups_admins_run_challenges_and_commands_get_one_line(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        api.make_admin(GROUP, ANN, status="creator")
        assert await said(api, BOB, "/challenge start Space Week 2h") == (
            "Only this chat's admins can start a challenge."
        )
        assert await said(api, BOB, "/challenge", chat=FakeTelegram.private(BOB)) == (
            "Challenges run in groups: add me to one and type /challenge there."
        )
        usage = await said(api, BOB, "/challenge")
        assert usage.startswith("Theme challenges in this group:\n/challenge start Space Week 2h [30m]")
        assert await said(api, BOB, f"/challenge@{BOT_USERNAME} help") == usage
        assert await said(api, BOB, "/challenge frobnicate now") == (
            "I don't know “/challenge frobnicate”. /challenge help lists them."
        )
        for text, problem in (
            ("/challenge start Space", "Write it as: /challenge start Space Week 2h, or with the voting"),
            ("/challenge start Space Week 2x", "The entry period '2x' is not a duration; write e.g. 90m"),
            (
                "/challenge start Space Week 90m 10s",
                "The voting period must be between 1 minute and 30 days.",
            ),
            ("/challenge start Space Week soon", "The entry period 'soon' is not a duration"),
            ("/challenge start 2h", "Write it as: /challenge start Space Week 2h"),
        ):
            assert (await said(api, ANN, text)).startswith(problem)
        ignored = api.send_text(BOB, "/challenge@other_bot start Pirate 1h", chat=GROUP)
        # An anonymous administrator writes as the group itself.
        started = api.send_text(ANONYMOUS_ADMIN, "/challenge start Pirate 1h", chat=GROUP, sender_chat=GROUP)
        assert (await replied(api, started)).params["text"].startswith("🏆 New challenge: <b>Pirate</b>!")
        assert await said(api, ANN, "/challenge start Ninja 1h") == (
            "A challenge is already running here; finish or cancel it first."
        )
        assert await said(api, CY, "/challenge enter") == (
            "You have no finished figure made here since the Pirate challenge started. "
            "Make one, then enter it."
        )
        await made(bot, CY, "pirate")
        assert await said(api, CY, "/challenge enter") == (
            "Entered: your figure is entry 1 in the Pirate challenge."
        )
        assert await said(api, CY, "/challenge withdraw") == "Withdrawn: entry 1 is out of the challenge."
        assert await said(api, BOB, "/challenge leaderboard") == (
            "No one has points here yet: places in finished challenges earn them."
        )
        for step, what in (("advance", "move a challenge on"), ("cancel", "cancel a challenge")):
            assert await said(api, BOB, f"/challenge {step}") == f"Only this chat's admins can {what}."
        api.send_text(ANONYMOUS_ADMIN, "/challenge cancel", chat=GROUP, sender_chat=GROUP)
        await api.wait_for_text(
            CHAT, "🚫 The <b>Pirate</b> challenge is called off: no voting, no winner this time."
        )
        assert await bot.challenges.current(Requester("telegram", "1", str(CHAT))) is None
        answered = {call.params.get("reply_parameters", {}).get("message_id") for call in api.sent()}
        assert ignored["message_id"] not in answered


async def test_forged_and_stale_vote_buttons_are_refused(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        api.make_admin(GROUP, ANN)
        await said(api, ANN, "/challenge start Space Week 2h")
        for user in (BOB, CY):
            await made(bot, user)
            await said(api, user, "/challenge enter")
        api.send_text(ANN, "/challenge advance", chat=GROUP)
        votes = await ballot(api)
        (album,) = api.sent("sendMediaGroup", CHAT)
        challenge_id = button(votes, "Entry 1").split(":")[1]
        for data, refusal in (
            ("vt:0123456789abcdef:1", STALE),  # well formed, but not a button of that message
            (f"vt:{challenge_id}:9", STALE),
            (f"vt:{challenge_id}:0", NOT_MINE),
            (f"vt:{challenge_id}", NOT_MINE),
            (f"vt:{challenge_id}:1:1", NOT_MINE),
            (f"vt:{challenge_id}:1; DROP TABLE votes", NOT_MINE),
            ("vt:../../etc:1", NOT_MINE),
        ):
            refused = await answer(api, api.press(EVE, votes.result, data))
            assert refused.params == {
                "callback_query_id": refused.params["callback_query_id"],
                "text": refusal,
                "show_alert": True,
            }, data
        # A real vote's data under another message of the bot (an entry's photo) is not a button there.
        entry_photo = album.result[0]
        refused = await answer(api, api.press(EVE, entry_photo, button(votes, "Entry 1")))
        assert refused.params["text"] == STALE
        assert await bot.challenges.records.tallies(challenge_id) == {}
        assert (await vote(api, EVE, votes, 2))["text"].startswith("Your vote for Entry 2 is in.")
        assert (await vote(api, EVE, votes, 1))["text"] == "Your vote moved from Entry 2 to Entry 1."


async def test_deadlines_passing_post_the_voting_and_then_the_results(tmp_path: Path) -> None:
    clock = Clock()
    async with FakeTelegram() as api, running_bot(tmp_path, api, clock=clock) as bot:
        api.make_admin(GROUP, ANN)
        await said(api, ANN, "/challenge start Space Week 2h 1h")
        await made(bot, BOB)
        await said(api, BOB, "/challenge enter")
        clock.advance(2 * HOUR)
        await bot.challenges.tick()
        votes = await ballot(api)
        (single,) = [call for call in api.sent("sendPhoto", CHAT) if call.params.get("caption") == "Entry 1"]
        assert single.at < votes.at and not api.sent("sendMediaGroup")  # an album needs two photos
        clock.advance(HOUR)
        await bot.challenges.tick()
        closed = await api.wait_for_text(CHAT, "🏁")
        assert closed["text"] == (
            "🏁 The <b>Space Week</b> challenge closed with 1 entry but no votes, so there is no winner this "
            "time."
        )
        await said(api, ANN, "/challenge start Pirate 90m")
        clock.advance(90 * 60)
        await bot.challenges.tick()
        await api.wait_for_text(
            CHAT, "🏁 The <b>Pirate</b> challenge closed without entries, so there is no winner this time."
        )
        assert not [call for call in api.sent("sendPhoto", CHAT) if "shelf" in call.params.get("caption", "")]


async def test_an_announcement_telegram_refused_is_retried_and_posted_once(tmp_path: Path) -> None:
    clock = Clock()
    async with FakeTelegram() as api, running_bot(tmp_path, api, clock=clock) as bot:
        api.make_admin(GROUP, ANN)
        await started_with_entries(api, bot)
        api.fail_next("sendMediaGroup", status=500)
        # Two 429s: more than the pacer's tries (FAST.attempts), so the announcement fails after the album.
        api.fail_next("sendMessage", retry_after=1, times=2)
        clock.advance(2 * HOUR)
        await bot.challenges.tick()
        await bot.challenges.tick()
        await ballot(api)
        await bot.challenges.tick()
        albums = [call for call in api.calls if call.method == "sendMediaGroup"]
        assert [call.ok for call in albums] == [False, True]
        ballots = [call for call in api.calls if call.method == "sendMessage" and call.chat_id == CHAT][-3:]
        assert [call.ok for call in ballots] == [False, False, True]
        assert all(call.params["text"].startswith("🗳️ Voting is open") for call in ballots)
        assert len(api.sent("sendMediaGroup")) == 1
        assert len([text for text in api.texts(CHAT) if "Voting is open" in text]) == 1


async def test_a_refused_album_leaves_the_ballot_and_a_moved_group_keeps_its_challenge(
    tmp_path: Path,
) -> None:
    clock = Clock()
    async with FakeTelegram() as api, running_bot(tmp_path, api, clock=clock) as bot:
        api.make_admin(GROUP, ANN)
        await started_with_entries(api, bot)
        api.fail_next("sendMediaGroup", status=400)  # e.g. a picture Telegram will not take
        clock.advance(2 * HOUR)
        await bot.challenges.tick()
        await ballot(api)
        await bot.challenges.tick()
        assert [call.ok for call in api.calls if call.method == "sendMediaGroup"] == [False]
        # The group became a supergroup: the challenge and its announcements follow it to the new id.
        api.fail_next("sendMessage", migrate_to=-1009999)
        api.chats[-1009999] = {**FakeTelegram.group(-1009999), "type": "supergroup"}
        api.send_text(ANONYMOUS_ADMIN, "/challenge advance", chat=GROUP, sender_chat=GROUP)
        await eventually(lambda: any(not call.ok for call in api.calls if call.method == "sendMessage"))
        await bot.challenges.tick()
        await bot.challenges.tick()
        results = [call for call in api.calls if call.params.get("text", "").startswith("🏁")]
        assert [(call.ok, call.chat_id) for call in results] == [(False, GROUP["id"]), (True, -1009999)]
        rows = await bot.store.db.rows(
            select(challenges.c.chat_id, challenge_results.c.chat_id).join_from(
                challenges, challenge_results, challenges.c.id == challenge_results.c.challenge_id
            )
        )
        assert {tuple(row) for row in rows} == {("-1009999", "-1009999")}


async def test_challenge_texts_are_html_with_the_groups_words_escaped(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        api.make_admin(GROUP, ANN)
        started = api.send_text(ANN, "/challenge start Cats & <Dogs> 1h", chat=GROUP)
        answer = (await replied(api, started)).params
        assert answer["text"].startswith("🏆 New challenge: <b>Cats &amp; &lt;Dogs&gt;</b>!")
        assert answer["parse_mode"] == "HTML"
        await made(bot, BOB, "Cats & <Dogs>")
        assert await said(api, BOB, "/challenge enter") == (
            "Entered: your figure is entry 1 in the Cats &amp; &lt;Dogs&gt; challenge."
        )


def test_html_markup_escapes_and_links_members_by_id() -> None:
    html = Html(1000.0, {"1002": "<Bob & co>"})
    assert escaped("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert html.bold("Cats & <Dogs>") == "<b>Cats &amp; &lt;Dogs&gt;</b>"
    assert html.mention("1002") == '<a href="tg://user?id=1002">&lt;Bob &amp; co&gt;</a>'
    assert html.mention("1009") == "a former member"
    assert html.deadline(1000.0 + 7500) == "in 2 hours 5 minutes"
    assert html.deadline(None) == "soon"
