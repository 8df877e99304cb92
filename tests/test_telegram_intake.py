"""Telegram updates go through the inbox: stored before they are confirmed, handled once, resumed after a
stop; drafts survive a restart; a webhook update that cannot be stored is answered with an error."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from pathlib import Path

import pytest

from adapters.telegram.application import LOST
from bot.inbox import MAX_STARTS
from bot.privacy import Vault, load_key
from bot.store.repository import Store
from tests.engine_kit import settings_for
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram import PHOTO, button, figures, next_figure, running_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
ANN = FakeTelegram.user(1001, "Ann")


async def test_an_update_telegram_sends_again_makes_no_second_job(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        api.send_photo(ANN, PHOTO, caption="Alex | pirate")
        await next_figure(api, 1001)
        api.redeliver(api.last_update_id)  # its confirmation was lost: Telegram sends it again
        api.send_text(ANN, "/themes")  # handled after the redelivered one, in the chat's order
        await api.wait_for_text(1001, "Themes:")
        assert await bot.store.jobs.count("telegram") == 1
        assert len(figures(api, 1001)) == 1 and bot.generator.painted == ["Alex"]


async def test_a_photo_being_set_up_survives_a_restart(tmp_path: Path) -> None:
    async with FakeTelegram() as api:
        async with running_bot(tmp_path, api):
            api.send_photo(ANN, PHOTO)  # no caption: the theme buttons come
            panel = await api.wait_for_text(1001, "Pick a theme")
        async with running_bot(tmp_path, api) as bot:  # a new process: the buttons still work
            api.press(ANN, panel, button(panel, "Pirate"))
            question = await api.wait_for_text(1001, "What name goes on the box?")
            api.send_text(ANN, "Captain Ann", reply_to=question)
            figure = await next_figure(api, 1001)
            assert figure.params["caption"] == "Captain Ann (Pirate)"
            assert bot.generator.painted == ["Captain Ann"]


async def test_what_was_stored_and_not_handled_before_a_stop_is_handled_at_start(tmp_path: Path) -> None:
    async with FakeTelegram() as api:
        api.chats[1001], api.users[1001] = FakeTelegram.private(ANN), ANN  # Ann wrote before the stop
        settings = settings_for(tmp_path)
        store = await Store.open(settings.database, Vault(load_key(settings)))
        stored = {
            "update_id": 41,
            "message": {
                "message_id": 7,
                "date": 1,
                "chat": FakeTelegram.private(ANN),
                "from": ANN,
                "photo": [
                    {"file_id": api.add_file(PHOTO), "file_unique_id": "u", "width": 512, "height": 768}
                ],
                "caption": "Stored | astronaut",
            },
        }
        await store.inbox.receive("telegram", "41", "1001", json.dumps(stored).encode(), 1.0)
        poison = {"update_id": 42, "message": {**stored["message"], "message_id": 8, "caption": "Poison"}}
        await store.inbox.receive("telegram", "42", "1001", json.dumps(poison).encode(), 2.0)
        for _ in range(MAX_STARTS):  # its handling started this often and never finished: it is given up
            await store.inbox.start("telegram", "42")
        await store.close()
        async with running_bot(tmp_path, api) as bot:
            figure = await next_figure(api, 1001)
            assert figure.params["caption"] == "Stored (Astronaut)"
            assert (await api.wait_for_text(1001, LOST))["text"] == LOST
            assert bot.generator.painted == ["Stored"]
            assert await bot.engine.inbox.waiting("telegram") == []


async def test_a_webhook_update_that_cannot_be_stored_gets_an_error_and_the_retry_works(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook = {
        "telegram_webhook_url": f"http://127.0.0.1:{port}/telegram/updates",
        "telegram_webhook_listen": "127.0.0.1",
        "telegram_webhook_port": port,
        "telegram_webhook_secret": "s3cret",
    }
    async with FakeTelegram() as api, running_bot(tmp_path, api, **webhook) as bot:
        await api.wait_for(lambda call: call.method == "setWebhook")
        update = {"update_id": 500, "message": {**_photo_message(api), "caption": "Hook | wizard"}}
        locker = sqlite3.connect(tmp_path / "data" / "figurebot.db", timeout=10, check_same_thread=False)
        # Another writer holds the database past the store's patience (taken in a thread: the bot's own
        # writes, which may hold it a moment, go on meanwhile).
        await asyncio.to_thread(locker.execute, "BEGIN IMMEDIATE")
        try:
            assert await api.post_to_webhook(update, "s3cret") == 500
        finally:
            locker.rollback()
            locker.close()
        assert await api.post_to_webhook(update, "s3cret") == 200  # Telegram's retry
        assert (await next_figure(api, 1001)).params["caption"] == "Hook (Wizard)"
        assert await api.post_to_webhook(update, "s3cret") == 200  # once more: recognised, not redone
        assert bot.generator.painted == ["Hook"]
        assert await bot.store.jobs.count("telegram") == 1
        for nonsense in ([], "text", None):  # JSON that is no update: answered so that it is not sent again
            assert await api.post_to_webhook(nonsense, "s3cret") == 400


async def test_polling_outlives_a_store_that_cannot_be_written_for_a_while(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        locker = sqlite3.connect(tmp_path / "data" / "figurebot.db", timeout=10, check_same_thread=False)
        await asyncio.to_thread(locker.execute, "BEGIN IMMEDIATE")
        try:
            api.send_photo(ANN, PHOTO, caption="Patient | knight")
            await api.until(lambda: api.handed_out or None)  # fetched, and not storable yet
            await asyncio.sleep(6)  # past the store's patience: the poll fails and waits
        finally:
            locker.rollback()
            locker.close()
        figure = await api.wait_for(lambda call: call.method == "sendPhoto", timeout=30)
        assert figure.params["caption"] == "Patient (Knight)"
        assert bot.generator.painted == ["Patient"]


def _photo_message(api: FakeTelegram) -> dict[str, object]:
    """A private photo message from Ann, as Telegram would send it, without queueing it."""
    api.chats[1001], api.users[1001] = FakeTelegram.private(ANN), ANN
    return {
        "message_id": 90,
        "date": 1,
        "chat": FakeTelegram.private(ANN),
        "from": ANN,
        "photo": [{"file_id": api.add_file(PHOTO), "file_unique_id": "u1", "width": 512, "height": 768}],
    }
