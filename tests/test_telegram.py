"""The Telegram adapter end to end: the real python-telegram-bot against a fake Bot API on 127.0.0.1,
over a real engine and SQLite store."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image

from adapters.telegram import FloodLimits, TelegramAdapter
from adapters.telegram.application import FLOODED, MAX_WAITING_PER_CHAT
from adapters.telegram.buttons import DELETED_NOT_REMOVED
from adapters.telegram.chat import POST_AS_YOURSELF
from adapters.telegram.delivery import FORGOTTEN
from adapters.wording import BROKEN, SEND_A_PHOTO
from bot.challenges import ChallengeService
from bot.engine import NOT_YOURS, JobEngine
from bot.generators.base import Progress, Refused
from bot.jobs import Requester
from bot.store.repository import Store
from bot.themes import catalog
from tests.engine_kit import PERSON, ScriptedGenerator, eventually, serving_platform, settings_for, wait_until
from tests.fakes.telegram_api import BOT_USERNAME, TOKEN, Call, FakeTelegram
from tests.photo_factory import gps_exif

# python-telegram-bot itself warns about the type of RetryAfter.retry_after whenever it raises one.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
PHOTO = PERSON.read_bytes()
FAST = FloodLimits(private=0.02, group=0.05, attempts=2)
MESSAGE_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption", "editMessageMedia"}
)
POLL = {
    "id": "poll-1",
    "question": "Pirate or ninja?",
    "options": [
        {"text": "Pirate", "voter_count": 0, "persistent_id": "1"},
        {"text": "Ninja", "voter_count": 0, "persistent_id": "2"},
    ],
    "total_voter_count": 0,
    "is_closed": False,
    "is_anonymous": True,
    "type": "regular",
    "allows_multiple_answers": False,
    "allows_revoting": True,
    "members_only": False,
}
# The accounts Telegram shows as the sender of messages posted as a channel, or by an anonymous admin.
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}


@dataclass
class Bot:
    api: FakeTelegram
    adapter: TelegramAdapter
    engine: JobEngine
    store: Store
    generator: ScriptedGenerator
    challenges: ChallengeService


@asynccontextmanager
async def running_bot(
    tmp_path: Path,
    api: FakeTelegram,
    generator: ScriptedGenerator | None = None,
    flood: FloodLimits = FAST,
    clock: Callable[[], float] | None = None,
    **values: Any,
) -> AsyncIterator[Bot]:
    """The adapter serving ``api`` over an engine on a SQLite file in ``tmp_path``, with challenges on
    ``clock`` (the engine's by default), as ``figurebot run`` wires it: adapter first (it subscribes),
    then the engine and the challenges, then ``serve()``."""
    settings = settings_for(
        tmp_path,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=api.base_url,
        telegram_file_base_url=api.file_base_url,
        max_active_jobs_per_user=0,
        **values,
    )
    generator = generator or ScriptedGenerator()

    def telegram(engine: JobEngine, challenges: ChallengeService) -> TelegramAdapter:
        return TelegramAdapter(engine, settings, challenges, flood=flood)

    async with serving_platform(settings, generator, telegram, clock) as (engine, store, challenges, adapter):
        await api.wait_for(lambda call: call.method == "setMyCommands")
        yield Bot(api, adapter, engine, store, generator, challenges)


def figures(api: FakeTelegram, chat_id: int) -> list[Call]:
    return api.sent("sendPhoto", chat_id) + api.sent("sendDocument", chat_id)


async def next_figure(api: FakeTelegram, chat_id: int, after: int = 0) -> Call:
    """The figure sent to ``chat_id`` after the first ``after`` ones."""
    return await api.wait_for(
        lambda call: (
            call.method in ("sendPhoto", "sendDocument")
            and call.chat_id == chat_id
            and "reply_markup" in call.params
            and figures(api, chat_id).index(call) >= after
        )
    )


async def answer(api: FakeTelegram, query_id: str) -> Call:
    """The bot's answer to a button press."""
    return await api.wait_for(
        lambda call: call.method == "answerCallbackQuery" and call.params["callback_query_id"] == query_id
    )


async def reply_text(api: FakeTelegram, message: dict[str, Any]) -> str:
    """The text of the bot's reply to ``message``."""
    reply = await api.wait_for(
        lambda c: (
            c.method == "sendMessage"
            and c.chat_id == message["chat"]["id"]
            and c.params.get("reply_parameters", {}).get("message_id") == message["message_id"]
        )
    )
    return reply.params["text"]


def button(call_or_message: Call | dict[str, Any], text: str) -> str:
    """The callback data of the button whose label contains ``text``."""
    if isinstance(call_or_message, Call):
        buttons = call_or_message.buttons
    else:
        markup = call_or_message.get("reply_markup") or {}
        buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
    return next(b["callback_data"] for b in buttons if text in b["text"])


async def test_photo_with_caption_gets_its_figure(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        commands = api.sent("setMyCommands")[0].params["commands"]
        assert {"figure", "themes", "quota", "privacy", "forget", "cancel", "help"} <= {
            command["command"] for command in commands
        }
        ann = api.user(1001, "Ann")
        photo = api.send_photo(ann, PHOTO, caption="Alex | astronaut | helmet, cat")
        figure = await next_figure(api, 1001)
        assert figure.params["caption"] == "Alex (Astronaut)"
        assert figure.params["reply_parameters"]["message_id"] == photo["message_id"]
        assert bot.generator.painted == ["Alex"]
        data = [b["callback_data"] for b in figure.buttons]
        assert [b["text"] for b in figure.buttons] == ["🎲 Re-roll", "🎨 Change theme", "🗑 Delete"]
        assert all(len(d.encode()) <= 64 for d in data)
        status = api.sent("sendMessage", 1001)[0]
        assert status.params["text"].startswith("⏳")
        await api.wait_for(lambda call: call.method == "deleteMessage")
        assert (1001, status.result["message_id"]) in api.deleted


async def test_photo_without_caption_asks_for_a_theme_then_a_name(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO)
        panel = await api.wait_for_text(1001, "Pick a theme")
        labels = [b["text"] for row in panel["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == [theme.name for theme in catalog().values()] + ["🎲 Surprise me"]
        api.press(ann, panel, button(panel, "Pirate"))
        question = await api.wait_for_text(1001, "What name goes on the box? Reply with it.")
        asked = api.sent("sendMessage", 1001)[-1]
        assert asked.result["message_id"] == question["message_id"]
        assert asked.params["reply_markup"]["force_reply"] is True
        api.send_text(ann, "Sam", reply_to=question)
        figure = await next_figure(api, 1001)
        assert figure.params["caption"] == "Sam (Pirate)"
        assert bot.generator.painted == ["Sam"]
        await api.wait_for(lambda call: call.method == "deleteMessage")
        assert (1001, panel["message_id"]) in api.deleted  # the panel became the status message


async def test_surprise_theme_and_the_senders_name_by_tapping_on(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api):
        bea = api.user(1002, "Bea")
        api.send_photo(bea, PHOTO)
        panel = await api.wait_for_text(1002, "Pick a theme")
        api.press(bea, panel, button(panel, "Surprise me"))
        chosen = await api.wait_for_text(1002, "Theme: ")
        api.press(bea, chosen, button(chosen, "Use “Bea”"))
        figure = await next_figure(api, 1002)
        name, theme = figure.params["caption"].removesuffix(")").split(" (")
        assert name == "Bea" and theme in {theme.name for theme in catalog().values()}


async def test_photo_file_with_gps_is_accepted_and_reaches_the_generator_without_it(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with Image.open(PERSON) as image:
        image.convert("RGB").save(buffer, "JPEG", exif=gps_exif())
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as sent:
        assert sent.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload does carry a position
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        gil = api.user(1003, "Gil")
        api.send_document(gil, data, "holiday.jpg", "image/jpeg", caption="name=Gil theme=detective")
        figure = await next_figure(api, 1003)
        assert figure.params["caption"] == "Gil (Detective)"
        received = bot.generator.photos[0]
        assert received.image.size == (512, 512)
        assert not received.image.getexif() and "exif" not in received.image.info
        assert not received.image.getexif().get_ifd(ExifTags.IFD.GPSInfo)


async def test_reroll_and_change_theme_make_more_figures_from_the_same_photo(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="Alex | astronaut")
        first = await next_figure(api, 1001)
        api.press(ann, first.result, button(first, "Re-roll"))
        second = await next_figure(api, 1001, after=1)
        assert second.params["caption"] == "Alex (Astronaut)"
        assert second.params["reply_parameters"]["message_id"] == first.result["message_id"]
        assert (await api.wait_for(lambda c: c.method == "answerCallbackQuery")).params["text"]
        api.press(ann, second.result, button(second, "Change theme"))
        markup = await api.wait_for(lambda c: c.method == "editMessageReplyMarkup")
        labels = [b["text"] for b in markup.buttons]
        assert "Wizard" in labels and "↩ Back" in labels
        api.press(ann, second.result, button(markup, "Wizard"))
        third = await next_figure(api, 1001, after=2)
        assert third.params["caption"] == "Alex (Wizard)"
        assert bot.generator.painted == ["Alex", "Alex", "Alex"]
        jobs = [await bot.store.jobs.latest("telegram", "1001")]
        assert jobs[0] is not None and jobs[0].spec.theme == "wizard" and jobs[0].parent_id is not None


async def test_delete_removes_the_stored_figure_and_its_message(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="Alex")
        figure = await next_figure(api, 1001)
        job_id = button(figure, "Delete").split(":")[1]
        job = await bot.store.jobs.get(job_id)
        assert job is not None and job.figure_id is not None
        deleted = await answer(api, api.press(ann, figure.result, button(figure, "Delete")))
        assert deleted.params["text"] == "Deleted."
        assert (1001, figure.result["message_id"]) in api.deleted
        assert await bot.store.jobs.get(job_id) is None
        assert await bot.store.jobs.figure(job.figure_id) is None
        # A figure whose message Telegram will not delete any more is still deleted from storage.
        api.send_photo(ann, PHOTO, caption="Bo")
        old = await next_figure(api, 1001, after=1)
        old_job = button(old, "Delete").split(":")[1]
        del api.messages[1001, old.result["message_id"]]  # deleteMessage now answers 400
        kept = await answer(api, api.press(ann, old.result, button(old, "Delete")))
        assert kept.params["text"] == (
            "Deleted from my storage. Telegram no longer lets me remove this message, though."
        )
        assert await bot.store.jobs.get(old_job) is None
        again = await answer(api, api.press(ann, figure.result, button(figure, "Delete")))
        assert again.params["text"] == "That figure is no longer stored: it expired or was deleted."


async def test_forget_asks_first_then_reports_what_was_deleted(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="Alex")
        await next_figure(api, 1001)
        api.send_text(ann, "/forget")
        question = await api.wait_for_text(1001, "Delete it all?")
        api.press(ann, question, button(question, "No"))
        await api.wait_for_text(1001, "nothing was deleted")
        assert await bot.store.jobs.latest("telegram", "1001") is not None
        api.send_text(ann, "/forget")
        question = await api.wait_for_text(1001, "Delete it all?")
        api.press(ann, question, button(question, "Yes"))
        summary = await api.wait_for_text(1001, "Forgotten.")
        assert summary["text"] == "Forgotten. Deleted: 1 photo, 1 figure, 1 job."
        assert await bot.store.jobs.latest("telegram", "1001") is None


async def test_buttons_pressed_by_someone_else_are_refused(tmp_path: Path) -> None:
    group = FakeTelegram.group()
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann, bob = api.user(1001, "Ann"), api.user(1002, "Bob")
        api.send_photo(ann, PHOTO, caption=f"@{BOT_USERNAME} Alex | pirate", chat=group)
        figure = await next_figure(api, group["id"])
        for label in ("Re-roll", "Change theme", "Delete"):
            query = api.press(bob, figure.result, button(figure, label))
            assert (await answer(api, query)).params == {
                "callback_query_id": query,
                "text": NOT_YOURS,
                "show_alert": True,
            }
        api.send_photo(ann, PHOTO, caption=f"@{BOT_USERNAME}", chat=group)
        panel = await api.wait_for_text(group["id"], "Pick a theme")
        assert (await answer(api, api.press(bob, panel, button(panel, "Ninja")))).params["text"] == NOT_YOURS
        api.send_text(ann, f"/forget@{BOT_USERNAME}", chat=group)
        question = await api.wait_for_text(group["id"], "Delete it all?")
        refused = await answer(api, api.press(bob, question, button(question, "Yes")))
        assert refused.params["text"] == "Only the person who asked can answer that."
        assert bot.generator.painted == ["Alex"]
        assert (group["id"], figure.result["message_id"]) in api.messages
        assert await bot.store.jobs.latest("telegram", "1001") is not None


async def test_forged_button_data_is_refused_and_the_bot_goes_on(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="Alex")
        figure = await next_figure(api, 1001)
        job_id = button(figure, "Re-roll").split(":")[1]
        not_shown = ["rr:0123456789abcdef", f"rt:{job_id}:pirate", f"rt:{job_id}:no-such-theme", "fg:1001"]
        for data in not_shown:  # well formed, but no such button under the message
            refused = await answer(api, api.press(ann, figure.result, data))
            assert refused.params["text"] == "That button is not there any more; use the ones shown now."
        for data in ("zz:1", f"rr:{job_id}:pirate", "rr:' OR 1=1 --", "x" * 64, ""):
            refused = await answer(api, api.press(ann, figure.result, data))
            assert refused.params["text"] == "That button is not one of mine.", data
        assert bot.generator.painted == ["Alex"]
        # Real buttons whose draft or job is gone say so.
        api.send_photo(ann, PHOTO)
        panel = await api.wait_for_text(1001, "Pick a theme")
        api.send_text(ann, "/cancel")
        await api.wait_for_text(1001, "OK: I dropped the photo you sent.")
        expired = await answer(api, api.press(ann, panel, button(panel, "Pirate")))
        assert expired.params["text"] == "Those buttons have expired; send the photo again."
        api.send_text(ann, "/forget")
        question = await api.wait_for_text(1001, "Delete it all?")
        api.press(ann, question, button(question, "Yes"))
        await api.wait_for_text(1001, "Forgotten.")
        gone = await answer(api, api.press(ann, figure.result, button(figure, "Re-roll")))
        assert gone.params["text"] == "That figure is no longer stored: it expired or was deleted."
        api.send_photo(ann, PHOTO, caption="Still | pirate")
        assert (await next_figure(api, 1001, after=1)).params["caption"] == "Still (Pirate)"
        assert bot.generator.painted == ["Alex", "Still"]


async def test_bad_input_gets_one_line_that_says_what_to_do(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")
        checks = [
            (
                lambda: api.send_document(ann, None, "huge.jpg", "image/jpeg", size=31 * 1024 * 1024),
                "That file is 31 MB; the limit is 20 MB.",
            ),
            (
                lambda: api.send_document(ann, b"%PDF-1.7 not a photo", "cv.pdf", "application/pdf"),
                "That file is not a photo I can read. Send a JPEG, PNG, WebP, HEIC, AVIF, GIF or TIFF image.",
            ),
            (
                lambda: api.send_document(ann, b"garbage, not a JPEG", "me.jpg", "image/jpeg"),
                "That file is not a photo I can read. Send a JPEG, PNG, WebP, HEIC, AVIF, GIF or TIFF image.",
            ),
            (lambda: api.send_sticker(ann), "I can't make a figure from a sticker. " + SEND_A_PHOTO),
            (lambda: api.send_video(ann), "I can't make a figure from a video. " + SEND_A_PHOTO),
            (
                lambda: api.send_other(ann, location={"latitude": 52.52, "longitude": 13.4}),
                "I can't make a figure from a location. " + SEND_A_PHOTO,
            ),
            (
                lambda: api.send_other(ann, contact={"phone_number": "+15550100", "first_name": "Zed"}),
                "I can't make a figure from a contact. " + SEND_A_PHOTO,
            ),
            (lambda: api.send_other(ann, poll=POLL), "I can't make a figure from a poll. " + SEND_A_PHOTO),
            (
                lambda: api.send_photo(ann, PHOTO, caption="Alex colour=red"),
                "I don't know the option 'colour'. Use name, theme, costume, accessories, tagline or style.",
            ),
            (
                lambda: api.send_photo(ann, PHOTO, caption="Alex | a | b | c | d"),
                "That caption has more than 4 parts separated by '|'. "
                "Write it as: name | theme | accessories | tagline.",
            ),
            (
                lambda: api.send_text(ann, "hello bot"),
                "Send me a photo to make a figure, with a caption like: Alex | astronaut. /help shows more.",
            ),
            (
                lambda: api.send_text(ann, "/frobnicate"),
                "I don't know that command. /help lists what I can do.",
            ),
            (
                lambda: api.send_text(ann, "/figure Alex"),
                "Reply with /figure to a photo you sent, "
                "or send a photo with a caption like: Alex | astronaut.",
            ),
        ]
        sent = []
        for send, expected in checks:
            sent.append(send())
            reply = await api.wait_for(
                lambda c, m=sent[-1]: (
                    c.method == "sendMessage"
                    and c.params.get("reply_parameters", {}).get("message_id") == m["message_id"]
                )
            )
            assert reply.params["text"] == expected
        huge = sent[0]["document"]["file_id"]
        assert not [call for call in api.calls if call.method == "getFile" and call.params["file_id"] == huge]
        # A name that is empty once invisible characters are gone, then one too long, then a good one.
        api.send_photo(ann, PHOTO)
        panel = await api.wait_for_text(1001, "Pick a theme")
        api.send_text(ann, "Chef Ann")
        await api.wait_for_text(1001, "First pick a theme on the buttons above; then I'll ask for the name.")
        api.press(ann, panel, button(panel, "Chef"))
        question = await api.wait_for_text(1001, "Reply with it.")
        api.send_text(ann, "\u200b\u2066", reply_to=question)
        await api.wait_for_text(1001, "That name is empty.")
        api.send_text(ann, "N" * 41, reply_to=question)
        await api.wait_for_text(1001, "That name is 41 characters long; the limit is 40.")
        api.send_text(ann, "Chef Ann", reply_to=question)
        assert (await next_figure(api, 1001)).params["caption"] == "Chef Ann (Chef)"
        assert bot.generator.painted == ["Chef Ann"]


async def test_a_429_in_the_middle_of_delivery_is_waited_out_and_the_figure_arrives_once(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api, purge_interval=0.2) as bot:
        api.fail_next("editMessageText", retry_after=1)
        # Two 429s: more than one delivery tries (FAST.attempts), so the engine tries again later.
        api.fail_next("sendPhoto", retry_after=1, times=2)
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="Alex")
        figure = await next_figure(api, 1001)
        job_id = button(figure, "Re-roll").split(":")[1]
        await wait_until(bot.store, job_id, lambda job: job.delivered_at is not None)
        attempts = [call for call in api.calls if call.method == "sendPhoto"]
        assert [call.ok for call in attempts] == [False, False, True]
        assert all(later.at - earlier.at >= 0.99 for earlier, later in itertools.pairwise(attempts))
        assert len(figures(api, 1001)) == 1
        assert bot.generator.painted == ["Alex"]


async def test_a_restart_mid_job_delivers_the_figure_once_and_takes_what_came_meanwhile(
    tmp_path: Path,
) -> None:
    ann = FakeTelegram.user(1001, "Ann")
    async with FakeTelegram() as api:
        slow = ScriptedGenerator(delay=60)
        async with running_bot(tmp_path, api, slow):
            api.send_photo(ann, PHOTO, caption="Alex | astronaut")
            await eventually(lambda: slow.started == ["Alex"])
            status = api.sent("sendMessage", 1001)[0]
        assert slow.cancelled == ["Alex"] and not figures(api, 1001)
        api.send_photo(ann, PHOTO, caption="Bo | ninja")  # while the bot is down
        async with running_bot(tmp_path, api) as bot:
            await eventually(lambda: len(figures(api, 1001)) == 2)
            for job_id in [button(call, "Re-roll").split(":")[1] for call in figures(api, 1001)]:
                await wait_until(bot.store, job_id, lambda job: job.delivered_at is not None)
            assert sorted(call.params["caption"] for call in figures(api, 1001)) == [
                "Alex (Astronaut)",
                "Bo (Ninja)",
            ]
            assert sorted(bot.generator.painted) == ["Alex", "Bo"]
            # The status message sent before the restart was followed after it, then cleared away.
            assert any(
                call.method == "editMessageText" and call.params["message_id"] == status.result["message_id"]
                for call in api.calls
                if call.at > status.at
            )
            await eventually(lambda: (1001, status.result["message_id"]) in api.deleted)
            assert (1001, status.result["message_id"]) in api.deleted
        assert len(figures(api, 1001)) == 2


async def test_in_groups_only_mentions_commands_and_replies_to_the_bot_get_answers(tmp_path: Path) -> None:
    group = FakeTelegram.group()
    chat = group["id"]
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann, bob = api.user(1001, "Ann"), api.user(1002, "Bob")
        ignored = [
            api.send_photo(ann, PHOTO, chat=group),
            api.send_photo(ann, PHOTO, caption="Alex | pirate", chat=group),
            api.send_text(ann, "nice photo!", chat=group),
            api.send_sticker(ann, chat=group),
            api.send_text(ann, "/figure@other_bot Alex", chat=group),
            api.send_text(ann, "/frobnicate", chat=group),
        ]
        mention = api.send_photo(ann, PHOTO, caption=f"Cleo | ninja @{BOT_USERNAME}", chat=group)
        figure = await next_figure(api, chat)
        assert figure.params["caption"] == "Cleo (Ninja)"
        assert figure.params["reply_parameters"]["message_id"] == mention["message_id"]
        own = api.send_photo(bob, PHOTO, chat=group)  # answered only once /figure points at it
        api.send_text(bob, f"/figure@{BOT_USERNAME} Bob | chef", chat=group, reply_to=own)
        second = await next_figure(api, chat, after=1)
        assert second.params["caption"] == "Bob (Chef)"
        assert second.params["reply_parameters"]["message_id"] == own["message_id"]
        api.send_text(bob, f"/figure@{BOT_USERNAME}", chat=group, reply_to=mention)
        await api.wait_for_text(chat, "Reply with /figure to a photo you sent yourself")
        ignored.append(api.send_sticker(bob, chat=group))
        api.send_text(bob, "what now?", chat=group, reply_to=figure.result)
        await api.wait_for_text(chat, "Send me a photo to make a figure")
        assert bot.generator.painted == ["Cleo", "Bob"]
        answered = {
            call.params["reply_parameters"]["message_id"]
            for call in api.sent()
            if "reply_parameters" in call.params
        }
        assert not answered & {message["message_id"] for message in ignored}


async def test_group_quota_comes_from_the_engine(tmp_path: Path) -> None:
    group = FakeTelegram.group()
    async with FakeTelegram() as api, running_bot(tmp_path, api, daily_quota_per_chat=1) as bot:
        ann, bob = api.user(1001, "Ann"), api.user(1002, "Bob")
        api.send_photo(ann, PHOTO, caption=f"@{BOT_USERNAME} Ann", chat=group)
        await next_figure(api, group["id"])
        api.send_photo(bob, PHOTO, caption=f"@{BOT_USERNAME} Bob", chat=group)
        refusal = await api.wait_for_text(
            group["id"], "This chat has made 1 figures today; the daily limit is 1."
        )
        assert refusal["text"].startswith("⚠️")
        api.send_text(bob, f"/quota@{BOT_USERNAME}", chat=group)
        quota = await api.wait_for_text(group["id"], "Today, with the scripted generator:")
        assert "• you: 0 of 100 figures\n• this chat: 1 of 1 figures" in quota["text"]
        api.send_text(bob, "/quota")  # in Bob's private chat the group's count does not apply
        private = await api.wait_for_text(1002, "Today, with the scripted generator:")
        assert "• this chat: 0 of 1 figures" in private["text"]
        assert bot.generator.painted == ["Ann"]


async def test_an_album_makes_one_figure_from_its_first_photo_and_says_so(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")
        first = api.send_photo(ann, PHOTO, caption="Alex | knight", media_group_id="album-1")
        api.send_photo(ann, PHOTO, media_group_id="album-1")
        api.send_photo(ann, PHOTO, media_group_id="album-1")
        note = await api.wait_for_text(1001, "You sent an album: I make one figure per photo")
        assert note["reply_to_message"]["message_id"] == first["message_id"]
        figure = await next_figure(api, 1001)
        assert figure.params["caption"] == "Alex (Knight)"
        api.send_text(ann, "and now?")
        await api.wait_for_text(1001, "Send me a photo to make a figure")
        assert bot.generator.painted == ["Alex"]
        assert not [text for text in api.texts(1001) if "Pick a theme" in text]


@dataclass
class Streaming(ScriptedGenerator):
    """Reports ten steps at once (a preview every fifth), waits for ``go``; then ten more, and paints."""

    go: list[asyncio.Event] = field(default_factory=lambda: [asyncio.Event(), asyncio.Event()])
    reported: int = 0

    async def generate(self, photo: Any, spec: Any, on_progress: Any = None, **options: Any) -> Any:
        for batch in range(2):
            for step in range(10 * batch + 1, 10 * batch + 11):
                preview = Image.new("RGB", (64, 96), (12 * step, 0, 0)) if step % 5 == 0 else None
                await on_progress(Progress(step / 20, f"step {step}", preview))
                self.reported += 1
            await self.go[batch].wait()
        return await super().generate(photo, spec, on_progress, **options)


async def test_status_is_paced_coalesced_and_shows_the_preview(tmp_path: Path) -> None:
    paced = FloodLimits(private=0.3, group=1.0, attempts=2)
    streaming = Streaming()
    async with FakeTelegram() as api, running_bot(tmp_path, api, streaming, flood=paced) as bot:
        ann = api.user(1001, "Ann")
        start = time.monotonic()
        api.send_photo(ann, PHOTO, caption="Alex")
        preview = await api.wait_for(lambda c: c.method == "sendPhoto" and "reply_markup" not in c.params)
        assert preview.params["caption"] == "🎨 Painting Alex (Superhero)… 50%, step 10"
        streaming.go[0].set()
        edited = await api.wait_for(lambda c: c.method == "editMessageMedia")
        assert edited.params["message_id"] == preview.result["message_id"]
        assert edited.params["media"]["caption"] == "🎨 Painting Alex (Superhero)… 100%, step 20"
        status = await bot.store.jobs.latest("telegram", "1001")
        assert status is not None and json.loads(status.ref or "")["media"] is True
        streaming.go[1].set()
        figure = await next_figure(api, 1001)
        await eventually(lambda: (1001, preview.result["message_id"]) in api.deleted)
        assert (1001, preview.result["message_id"]) in api.deleted
        assert streaming.reported == 20
        to_chat = [call for call in api.calls if call.chat_id == 1001 and call.method in MESSAGE_METHODS]
        assert to_chat[-1] is figure and len(to_chat) <= 6  # 22 events, a handful of messages
        # One message per 0.3 s at most: the n-th cannot have come before start + n * 0.3 s.
        assert all(call.at >= start + index * 0.3 - 0.01 for index, call in enumerate(to_chat))


async def test_a_generator_that_needs_consent_shows_the_notice_and_accept_goes_on(tmp_path: Path) -> None:
    remote = ScriptedGenerator(sends_photo_off_machine=True)
    async with FakeTelegram() as api, running_bot(tmp_path, api, remote) as bot:
        ann = api.user(1001, "Ann")
        api.send_text(ann, "/start")
        welcome = await api.wait_for_text(1001, "Hi! I turn a photo of you")
        assert "Your photo is sent to the scripted image service" in welcome["text"]
        assert button(welcome, "Accept") == "ok:-"
        api.send_photo(ann, PHOTO, caption="Alex")
        notice = await api.wait_for(  # answering the photo: nothing was promised before it
            lambda c: c.method == "sendMessage" and c.params["text"].startswith("Privacy notice")
        )
        assert not bot.generator.started
        accept = api.press(ann, notice.result, button(notice, "Accept"))
        assert (await answer(api, accept)).params["text"] == "Thanks: the privacy notice is accepted."
        figure = await next_figure(api, 1001)
        assert figure.params["caption"] == "Alex (Superhero)"
        api.send_photo(ann, PHOTO, caption="Again")
        assert (await next_figure(api, 1001, after=1)).params["caption"] == "Again (Superhero)"
        assert bot.generator.painted == ["Alex", "Again"]
        # A notice whose photo is gone (here: dropped with /cancel) still records the consent.
        bob = api.user(1002, "Bob")
        api.send_photo(bob, PHOTO, caption="Bob")
        notice = await api.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == 1002 and "Privacy notice" in c.params["text"]
        )
        api.send_text(bob, "/cancel")
        await api.wait_for_text(1002, "I dropped the photo")
        late = api.press(bob, notice.result, button(notice, "Accept"))
        assert (await answer(api, late)).params["text"] == (
            "Thanks: the privacy notice is accepted. The photo it was asked for has expired: send it again."
        )
        assert await bot.store.privacy.consent_version("telegram", "1002", "scripted") == 2


async def test_commands_answer_in_one_message(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api, ScriptedGenerator(delay=60)) as bot:
        ann = api.user(1001, "Ann")
        answers = {}
        for command in ("/start", "/help", "/themes", "/privacy", "/quota", "/cancel"):
            message = api.send_text(ann, command)
            reply = await api.wait_for(
                lambda c, m=message: (
                    c.method == "sendMessage"
                    and c.params.get("reply_parameters", {}).get("message_id") == m["message_id"]
                )
            )
            answers[command] = reply.params
        assert answers["/start"]["text"].startswith(
            "Hi! I turn a photo of you into a collectible action figure"
        )
        assert "Your photo stays on this bot's own machines" in answers["/start"]["text"]
        assert "reply_markup" not in answers["/start"]  # the local kind of generator needs no consent
        assert "/forget  delete everything stored about you" in answers["/help"]["text"]
        assert answers["/themes"]["text"].startswith("Themes: Astronaut, Punk Rocker,")
        assert answers["/privacy"]["text"].startswith("Privacy notice (version 2).")
        assert answers["/quota"]["text"].startswith(
            "Today, with the scripted generator:\n• you: 0 of 100 figures"
        )
        assert answers["/cancel"]["text"] == "You have no figure in the works here."
        api.send_photo(ann, PHOTO, caption="Alex")
        await eventually(lambda: bot.generator.started == ["Alex"])
        api.send_text(ann, "/cancel")
        await api.wait_for_text(1001, "Cancelled: Alex (Superhero).")
        await eventually(lambda: bot.generator.cancelled == ["Alex"])
        assert bot.generator.cancelled == ["Alex"] and not figures(api, 1001)
        api.send_photo(ann, PHOTO)
        await api.wait_for_text(1001, "Pick a theme")
        api.send_text(ann, "/cancel")
        await api.wait_for_text(1001, "OK: I dropped the photo you sent.")


async def test_a_failed_figure_says_why_on_its_status_message(tmp_path: Path) -> None:
    refusing = ScriptedGenerator(script=[Refused("That photo breaks a content rule.")])
    async with FakeTelegram() as api, running_bot(tmp_path, api, refusing) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="Alex")
        status = await api.wait_for_text(1001, "That photo breaks a content rule.")
        assert status["text"] == "⚠️ Alex (Superhero): That photo breaks a content rule."
        job = await bot.store.jobs.latest("telegram", "1001")
        assert job is not None
        await wait_until(bot.store, job.id, lambda job: job.delivered_at is not None)
        assert not figures(api, 1001)


async def test_no_update_can_crash_the_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")

        async def broken(*args: object, **kwargs: object) -> None:
            raise KeyError("a bug")

        with monkeypatch.context() as patch:
            patch.setattr(bot.engine, "submit", broken)
            api.send_photo(ann, PHOTO, caption="Alex")
            status = await api.wait_for_text(1001, "Something went wrong on my side; please try again.")
            assert status["text"].startswith("⚠️")
            patch.setattr(bot.engine, "quota", broken)
            api.send_text(ann, "/quota")
            await eventually(
                lambda: api.texts(1001).count("Something went wrong on my side; please try again.") == 1
            )
        # Odd updates: an edited message, a button on a message too old to reach, a message without a sender.
        api.inject({"edited_message": {**api.send_text(ann, "hello"), "edit_date": 1}})
        api.inject({"callback_query": {"id": "q-old", "from": ann, "chat_instance": "1", "data": "rr:1"}})
        api.inject({"message": {"message_id": 999, "date": 1, "chat": api.private(ann), "text": "hi"}})
        assert (await answer(api, "q-old")).params[
            "text"
        ] == "Those buttons have expired; send the photo again."
        api.send_photo(ann, PHOTO, caption="Still | pirate")
        assert (await next_figure(api, 1001)).params["caption"] == "Still (Pirate)"
        replied = [
            call.params["reply_parameters"]["message_id"]
            for call in api.sent()
            if "reply_parameters" in call.params
        ]
        assert (
            999 not in replied
            and api.texts(1001).count("Something went wrong on my side; please try again.") == 1
        )


async def test_webhook_mode_checks_the_secret_token(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/telegram/updates"
    webhook = {
        "telegram_webhook_url": url,
        "telegram_webhook_listen": "127.0.0.1",
        "telegram_webhook_port": port,
        "telegram_webhook_secret": "s3cret-Token_1",
    }
    async with FakeTelegram() as api, running_bot(tmp_path, api, **webhook) as bot:
        await api.wait_for(lambda call: call.method == "setWebhook")
        assert api.webhook is not None
        assert (api.webhook["url"], api.webhook["secret_token"]) == (url, "s3cret-Token_1")
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="Web | wizard")
        assert (await next_figure(api, 1001)).params["caption"] == "Web (Wizard)"
        forged = {"update_id": 777, "message": {**api.messages[1001, 1], "caption": "Forged | pirate"}}
        assert await api.post_to_webhook(forged, "wrong") == 403
        assert await api.post_to_webhook(forged, None) == 403
        assert api.webhook_answers == [200]
        assert bot.generator.painted == ["Web"]


async def test_forget_stops_figures_in_the_works(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api, ScriptedGenerator(delay=60)) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="Alex")
        await eventually(lambda: bot.generator.started == ["Alex"])
        status = api.sent("sendMessage", 1001)[0]
        api.send_text(ann, "/forget")
        question = await api.wait_for_text(1001, "Delete it all?")
        api.press(ann, question, button(question, "Yes"))
        summary = await api.wait_for_text(1001, "Forgotten.")
        assert summary["text"] == "Forgotten. Deleted: 1 photo, 1 job."
        stopped = await api.wait_for_text(1001, "Stopped: you asked me to forget everything about you.")
        assert stopped["message_id"] == status.result["message_id"]
        await eventually(lambda: bot.generator.cancelled == ["Alex"])
        assert bot.generator.cancelled == ["Alex"] and not figures(api, 1001)


async def test_a_figure_in_the_theme_of_an_open_challenge_can_be_entered(tmp_path: Path) -> None:
    group = FakeTelegram.group()
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        organiser = Requester("telegram", "1009", str(group["id"]))
        await bot.challenges.begin(organiser, "pirate", "1h", is_admin=True)
        ann, bob = api.user(1001, "Ann"), api.user(1002, "Bob")
        api.send_photo(ann, PHOTO, caption=f"@{BOT_USERNAME} Ann | chef", chat=group)
        chef = await next_figure(api, group["id"])
        assert "Enter challenge" not in [b["text"] for b in chef.buttons]
        api.send_photo(ann, PHOTO, caption=f"@{BOT_USERNAME} Ann | pirate", chat=group)
        pirate = await next_figure(api, group["id"], after=1)
        enter = button(pirate, "Enter challenge")
        assert (await answer(api, api.press(bob, pirate.result, enter))).params["text"] == NOT_YOURS
        entered = await answer(api, api.press(ann, pirate.result, enter))
        assert entered.params["text"] == "Entered: your figure is entry 1 in the Pirate challenge."
        again = await answer(api, api.press(ann, pirate.result, enter))
        assert again.params["text"] == "That figure is already entered."
        assert bot.generator.painted == ["Ann", "Ann"]


async def test_an_albums_caption_on_a_later_photo_is_used(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, media_group_id="album-2")
        api.send_photo(ann, PHOTO, caption="Alex | knight", media_group_id="album-2")
        api.send_photo(ann, PHOTO, caption="Bo | pirate", media_group_id="album-2")  # only the first caption
        figure = await next_figure(api, 1001)
        assert figure.params["caption"] == "Alex (Knight)"
        api.send_text(ann, "and now?")  # answered once the album's photos are
        await api.wait_for_text(1001, "Send me a photo to make a figure")
        assert await bot.store.jobs.count("telegram", user_id="1001") == 1
        assert not [text for text in api.texts(1001) if "Pick a theme" in text]


async def test_posting_as_a_channel_or_anonymously_makes_and_touches_no_figure(tmp_path: Path) -> None:
    """Everyone who posts as a channel, or as an anonymous admin, shows as one account: nothing personal."""
    group, channel = FakeTelegram.group(), FakeTelegram.channel()
    async with FakeTelegram() as api, running_bot(tmp_path, api, ScriptedGenerator(delay=60)) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption=f"@{BOT_USERNAME} Ann", chat=group)
        await eventually(lambda: bot.generator.started == ["Ann"])
        posted = api.send_photo(
            CHANNEL_BOT, PHOTO, caption=f"@{BOT_USERNAME} Chan", chat=group, sender_chat=channel
        )
        assert await reply_text(api, posted) == POST_AS_YOURSELF
        for sender, sender_chat in ((CHANNEL_BOT, channel), (ANONYMOUS_ADMIN, group)):
            for text in (
                "/cancel",
                "/forget",
                f"/figure@{BOT_USERNAME} Chan",
                "/challenge enter",
                "/challenge withdraw",
            ):
                message = api.send_text(sender, text, chat=group, reply_to=posted, sender_chat=sender_chat)
                assert await reply_text(api, message) == POST_AS_YOURSELF, text
        assert bot.generator.started == ["Ann"] and not bot.generator.cancelled
        assert await bot.store.jobs.count("telegram") == 1


async def test_a_chat_with_a_backlog_holds_up_no_other_chat(tmp_path: Path) -> None:
    quick = FloodLimits(private=0.001, group=0.001, attempts=2)
    async with FakeTelegram() as api, running_bot(tmp_path, api, flood=quick):
        sam, oli = api.user(2001, "Sam"), api.user(2002, "Oli")
        api.answer_late("sendMessage", 1.0, chat_id=2001)  # Sam's chat is busy with its first answer
        for index in range(MAX_WAITING_PER_CHAT + 30):  # more than the updates handled at once
            api.send_text(sam, f"hello {index}")
        api.send_text(oli, "/help")
        await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 2002)
        # Beyond its limit, a chat's backlog is dropped (a flood cannot fill the memory), and said once.
        flooded = await api.wait_for_text(2001, "You sent a lot at once")
        assert flooded["text"] == FLOODED
        await eventually(lambda: len(api.sent("sendMessage", 2001)) == MAX_WAITING_PER_CHAT + 1)
        last = api.send_text(sam, "/themes")
        assert (await reply_text(api, last)).startswith("Themes:")
        assert len(api.sent("sendMessage", 2001)) == MAX_WAITING_PER_CHAT + 2
        assert api.texts(2001).count(FLOODED) == 1


async def test_a_figure_telegram_answers_slowly_is_posted_once(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api, purge_interval=0.2) as bot:
        api.answer_late("sendPhoto", 5.5)  # over python-telegram-bot's usual 5 s wait for an answer
        api.send_photo(api.user(1001, "Ann"), PHOTO, caption="Alex")
        figure = await next_figure(api, 1001)
        job_id = button(figure, "Re-roll").split(":")[1]
        await wait_until(bot.store, job_id, lambda job: job.delivered_at is not None)
        assert len(figures(api, 1001)) == 1


@dataclass
class DoneOnPreview(ScriptedGenerator):
    """Shows a preview, and is done as soon as Telegram has it (before Telegram answered)."""

    api: FakeTelegram | None = None

    async def generate(self, photo: Any, spec: Any, on_progress: Any = None, **options: Any) -> Any:
        await on_progress(Progress(0.5, "half", Image.new("RGB", (64, 96), (0, 0, 200))))
        assert self.api is not None
        await self.api.wait_for(lambda c: c.method == "sendPhoto")
        return await super().generate(photo, spec, on_progress, **options)


async def test_a_status_being_sent_when_the_figure_is_done_is_not_left_behind(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api, DoneOnPreview(api=api)):
        api.answer_late("sendPhoto", 1.0)  # the preview
        api.send_photo(api.user(1001, "Ann"), PHOTO, caption="Alex")
        await next_figure(api, 1001)
        preview = api.sent("sendPhoto", 1001)[0]
        assert "reply_markup" not in preview.params
        await eventually(lambda: (1001, preview.result["message_id"]) in api.deleted)
        assert api.texts(1001) == ["Alex (Superhero)"]


async def test_a_figure_waiting_out_a_429_is_dropped_once_its_owner_had_it_forgotten(tmp_path: Path) -> None:
    group = FakeTelegram.group()
    async with FakeTelegram() as api, running_bot(tmp_path, api):
        ann = api.user(1001, "Ann")
        api.fail_next("sendPhoto", retry_after=2)
        api.send_photo(ann, PHOTO, caption=f"@{BOT_USERNAME} Alex", chat=group)
        await eventually(lambda: any(call.method == "sendPhoto" for call in api.calls))
        api.send_text(ann, "/forget")
        question = await api.wait_for_text(1001, "Delete it all?")
        api.press(ann, question, button(question, "Yes"))
        await api.wait_for_text(1001, "Forgotten.")
        await api.wait_for_text(group["id"], FORGOTTEN)
        assert not figures(api, group["id"])


async def test_a_double_tap_makes_one_figure_and_no_apology(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="Alex")
        first = await next_figure(api, 1001)
        taps = [api.press(ann, first.result, button(first, "Re-roll")) for _ in range(2)]
        said = [(await answer(api, tap)).params.get("text") for tap in taps]
        assert said == ["Another one is on its way.", None]
        taps = [api.press(ann, first.result, button(first, "Change theme")) for _ in range(2)]
        assert [(await answer(api, tap)).params.get("text") for tap in taps] == [None, None]
        themes = await api.wait_for(lambda c: c.method == "editMessageReplyMarkup")
        taps = [api.press(ann, first.result, button(themes, theme)) for theme in ("Wizard", "Ninja")]
        said = [(await answer(api, tap)).params.get("text") for tap in taps]
        assert said == ["Coming up as Wizard.", None]
        assert await bot.store.jobs.count("telegram", user_id="1001") == 3
        await next_figure(api, 1001, after=2)
        assert sorted(call.params["caption"] for call in figures(api, 1001)) == [
            "Alex (Superhero)",
            "Alex (Superhero)",
            "Alex (Wizard)",
        ]


async def test_a_figure_for_a_group_that_moved_goes_to_its_new_id_or_is_given_up(tmp_path: Path) -> None:
    old, new = FakeTelegram.group(-4001, "Old"), FakeTelegram.group(-1004001, "New")
    async with FakeTelegram() as api, running_bot(tmp_path, api, purge_interval=0.2) as bot:
        ann = api.user(1001, "Ann")
        api.chats[new["id"]] = new
        api.fail_next("sendPhoto", migrate_to=new["id"])
        api.send_photo(ann, PHOTO, caption=f"@{BOT_USERNAME} Alex", chat=old)
        assert (await next_figure(api, new["id"])).params["caption"] == "Alex (Superhero)"
        # The new group refuses it too (the bot was removed): given up, not tried again and again.
        api.fail_next("sendPhoto", migrate_to=new["id"])
        api.fail_next("sendPhoto", status=403)
        api.send_photo(ann, PHOTO, caption=f"@{BOT_USERNAME} Bo", chat=old)
        await eventually(lambda: len([call for call in api.calls if call.method == "sendPhoto"]) == 4)
        job = await bot.store.jobs.latest("telegram", "1001")
        assert job is not None and job.spec.name == "Bo"
        await wait_until(bot.store, job.id, lambda job: job.delivered_at is not None)
        assert [call.ok for call in api.calls if call.method == "sendPhoto"] == [False, True, False, False]


async def test_a_429_or_an_outage_around_a_press_ends_in_no_apology(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        ann = api.user(1001, "Ann")
        api.fail_next("getFile", retry_after=1)
        api.send_photo(ann, PHOTO, caption="Alex")
        figure = await next_figure(api, 1001)
        api.fail_next("editMessageReplyMarkup", retry_after=1)
        shown = await answer(api, api.press(ann, figure.result, button(figure, "Change theme")))
        assert "text" not in shown.params
        themes = await api.wait_for(lambda c: c.method == "editMessageReplyMarkup")
        api.fail_next("answerCallbackQuery", retry_after=1)
        back = api.press(ann, figure.result, button(themes, "Back"))
        assert "text" not in (await answer(api, back)).params
        api.fail_next("deleteMessage", status=500)  # Telegram cannot remove the message just now
        deleted = await answer(api, api.press(ann, figure.result, button(figure, "Delete")))
        assert deleted.params["text"] == DELETED_NOT_REMOVED
        assert await bot.store.jobs.latest("telegram", "1001") is None
        answers = [call.params.get("text") for call in api.sent("answerCallbackQuery")]
        assert BROKEN not in answers + api.texts(1001)


async def test_each_reroll_is_a_new_variant_and_notes_come_with_the_figure(tmp_path: Path) -> None:
    generator = ScriptedGenerator(notes=("I could not draw: jetpack",))
    async with FakeTelegram() as api, running_bot(tmp_path, api, generator) as bot:
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="name=Alex theme=astronaut costume=jetpack")
        first = await next_figure(api, 1001)
        assert first.params["caption"] == "Alex (Astronaut)\nI could not draw: jetpack"
        api.press(ann, first.result, button(first, "Re-roll"))
        second = await next_figure(api, 1001, after=1)
        api.press(ann, first.result, button(first, "Change theme"))  # the first figure once more
        markup = await api.wait_for(lambda c: c.method == "editMessageReplyMarkup")
        api.press(ann, first.result, button(markup, "Wizard"))
        third = await next_figure(api, 1001, after=2)
        assert third.params["caption"] == "Alex (Wizard)\nI could not draw: jetpack"
        api.press(ann, second.result, button(second, "Re-roll"))
        await next_figure(api, 1001, after=3)
        assert [(spec.theme, spec.variant) for spec in bot.generator.specs] == [
            ("astronaut", 1),
            ("astronaut", 2),
            ("wizard", 3),
            ("astronaut", 4),
        ]
