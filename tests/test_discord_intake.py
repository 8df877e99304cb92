"""Discord requests stored before their acknowledgement and carried out at the next start when a crash
came first: a figure, a re-roll, a confirmed forget and a settings change, answered in the channel (or a
DM for a private request) once the interaction's token no longer works."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from adapters.discord.pending import Kind, Request
from adapters.discord.replies import Reply
from bot.jobs import Requester
from bot.privacy import Vault, load_key
from bot.spec import make_spec
from bot.store.repository import Store
from tests.engine_kit import eventually, settings_for
from tests.fakes.discord_api import CHANNEL_ID, GUILD_ID, FakeDiscord
from tests.test_discord import ALICE, PNG, running

ALICE_HERE = Requester("discord", str(ALICE.id), str(CHANNEL_ID), str(GUILD_ID))


def stale_reply(private: bool = False) -> Reply:
    """The reply of an interaction made long ago: its token no longer works."""
    return Reply(1, "expired-token", CHANNEL_ID, 0, created_at=1.0, private=private)


async def left_waiting(tmp_path: Path, key: str, request: Request) -> None:
    """What a process stored before it died: ``request``, not carried out."""
    settings = settings_for(tmp_path)
    store = await Store.open(settings.database, Vault(load_key(settings)))
    await store.inbox.receive("discord", key, request.requester.user_id, request.dumps(), 1.0)
    await store.close()


async def test_a_figure_asked_for_before_a_crash_is_made_and_posted_with_a_mention(tmp_path: Path) -> None:
    async with FakeDiscord() as api:
        photo = api.attachment(PNG, "me.png", "image/png")
        spec = make_spec(name="Alice", theme="pirate")
        args = {"url": photo["url"], "max_bytes": 10 * 1024 * 1024}
        request = Request(Kind.FIGURE, ALICE_HERE, stale_reply(), spec, args)
        await left_waiting(tmp_path, "900", request)
        async with running(api, tmp_path) as bot:
            posted = await api.wait_for(lambda: api.channel_messages(), timeout=15)
            assert posted[0]["content"] == f"<@{ALICE.id}> your figure of Alice (Pirate) is ready."
            assert bot.generator.painted == ["Alice"]
            assert await bot.engine.inbox.waiting("discord") == []


async def test_a_re_roll_pressed_before_a_crash_is_made(tmp_path: Path) -> None:
    async with FakeDiscord() as api:
        async with running(api, tmp_path) as bot:
            await bot.result(await bot.figure(name="Alice"))
            job = await bot.job_of()
        wizard = make_spec(name="Alice", theme="wizard")
        await left_waiting(
            tmp_path, "901", Request(Kind.REROLL, ALICE_HERE, stale_reply(), wizard, {"job_id": job.id})
        )
        async with running(api, tmp_path) as bot:
            posted = await api.wait_for(lambda: api.channel_messages(), timeout=15)
            assert posted[0]["content"] == f"<@{ALICE.id}> your figure of Alice (Wizard) is ready."
            assert bot.generator.painted == ["Alice"]  # this process painted the re-roll only
            assert (await bot.job_of()).parent_id == job.id


async def test_a_confirmed_forget_completes_after_a_crash_and_says_so_privately(tmp_path: Path) -> None:
    async with FakeDiscord() as api:
        async with running(api, tmp_path) as bot:
            await bot.result(await bot.figure(name="Alice"))
        await left_waiting(tmp_path, "902", Request(Kind.FORGET, ALICE_HERE, stale_reply(private=True)))
        async with running(api, tmp_path) as bot:
            dm = await api.wait_for(lambda: api.dm_channel(ALICE), timeout=15)
            said = await api.wait_for(
                lambda: [m for m in api.messages.values() if m["channel_id"] == str(dm)]
            )
            assert said[0]["content"] == "Forgotten. Deleted: 1 photo, 1 figure, 1 job."
            assert await bot.store.jobs.latest("discord", str(ALICE.id)) is None
            assert not api.channel_messages()  # nothing about it in the channel


def dm_texts(api: FakeDiscord) -> list[str]:
    dm = api.dm_channel(ALICE)
    return [message["content"] for message in api.messages.values() if message["channel_id"] == f"{dm}"]


async def test_a_settings_change_made_before_a_crash_is_saved_and_confirmed(tmp_path: Path) -> None:
    async with FakeDiscord() as api:
        changes = {"daily_quota_per_user": 3, "channels": [str(CHANNEL_ID)]}
        settings = Request(Kind.SETTINGS, ALICE_HERE, stale_reply(private=True), args={"changes": changes})
        await left_waiting(tmp_path, "903", settings)
        async with running(api, tmp_path) as bot:
            said = await api.wait_for(lambda: dm_texts(api), timeout=15)
            assert "• figures per member per day: 3" in said[0]
            saved = await bot.engine.chat_settings(ALICE_HERE)
            assert (saved.daily_quota_per_user, saved.channels) == (3, (str(CHANNEL_ID),))


async def test_a_request_discord_never_acknowledged_is_not_carried_out_later(tmp_path: Path) -> None:
    async with FakeDiscord() as api:
        async with running(api, tmp_path) as bot:
            api.fail("POST", r"/interactions/", 404, code=10062)  # "Unknown interaction": too late
            interaction = api.slash("figure", ALICE, photo=api.attachment(PNG, "me.png", "image/png"))
            await api.dispatch(interaction)

            async def settled() -> bool:
                query = text("SELECT handled_at FROM inbox WHERE key = :key")
                rows = await bot.store.db.rows(query, {"key": interaction["id"]})
                return bool(rows) and rows[0].handled_at is not None

            await eventually(settled)
        async with running(api, tmp_path) as bot:  # the next start does not make it either
            await asyncio.sleep(0.5)
            assert await bot.store.jobs.count("discord") == 0
            assert not bot.generator.painted
