"""``/settings`` in a Telegram group: admins keep photos on this machine and lower limits; others read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.telegram.group_settings import ADMINS_ONLY, GROUPS_ONLY, USAGE
from bot.chat_settings import BAD_QUOTA, MAX_DAILY_QUOTA, parse_daily_quota
from bot.errors import UserFacingError
from bot.jobs import Requester
from tests.engine_kit import eventually
from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram import ANONYMOUS_ADMIN, CHANNEL_BOT, reply_text, running_bot
from tests.test_telegram_challenges import ANN, BOB, GROUP, said

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_group_admins_change_settings_and_members_read_them(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api, photo_retention=3600) as bot:
        api.make_admin(GROUP, ANN)
        group = Requester("telegram", str(ANN["id"]), str(GROUP["id"]))
        assert await said(api, BOB, "/settings local on") == ADMINS_ONLY
        as_channel = api.send_text(
            CHANNEL_BOT, "/settings local on", chat=GROUP, sender_chat=FakeTelegram.channel()
        )
        assert await reply_text(api, as_channel) == ADMINS_ONLY
        assert not (await bot.engine.chat_settings(group)).local_only
        api.fail_next("getChatMember", retry_after=1)  # who is an admin is asked again after the wait
        shown = await said(api, ANN, "/settings local on")
        assert "photos stay on this bot's own machines (painted by scripted only): yes" in shown
        assert (await bot.engine.chat_settings(group)).local_only
        assert "figures per member per day: 3" in await said(api, ANN, "/settings quota 3")
        assert "photos kept after their last figure: 30 minutes" in await said(
            api, ANN, "/settings retention 30m"
        )
        read = await said(api, BOB, "/settings")
        assert read.startswith("figurebot in this group:") and read.endswith(USAGE)
        assert "figures per member per day: 3" in read
        settings = await bot.engine.chat_settings(group)
        assert (settings.daily_quota_per_user, settings.photo_retention) == (3, 1800.0)
        anonymous = api.send_text(ANONYMOUS_ADMIN, "/settings quota default", chat=GROUP, sender_chat=GROUP)
        assert "per day: the bot's default" in await reply_text(api, anonymous)
        for wrong in (
            "/settings local maybe",
            "/settings quota -1",
            "/settings quota ²",
            "/settings quota ١٢",
            "/settings quota 123456",
            "/settings colour red",
            "/settings quota",
        ):
            assert await said(api, ANN, wrong) == USAGE
        assert await said(api, ANN, "/settings retention soon") == (
            "“soon” is not a duration; write e.g. 0, 30m or 1h."
        )
        assert await said(api, ANN, "/settings", chat=FakeTelegram.private(ANN)) == GROUPS_ONLY


async def test_a_group_that_becomes_a_supergroup_keeps_its_settings(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        api.make_admin(GROUP, ANN)
        assert "only): yes" in await said(api, ANN, "/settings local on")
        api.inject(
            {
                "message": {
                    "message_id": 999,
                    "date": 0,
                    "chat": GROUP,
                    "from": ANN,
                    "migrate_to_chat_id": -1009999,
                }
            }
        )
        supergroup = Requester("telegram", str(ANN["id"]), "-1009999")

        async def moved() -> bool:
            return (await bot.engine.chat_settings(supergroup)).local_only

        await eventually(moved)
        assert await moved()


def test_both_chats_read_a_daily_quota_by_one_rule() -> None:
    assert [parse_daily_quota(text) for text in (" 3 ", "Default", "0", "12345")] == [
        3,
        None,
        0,
        MAX_DAILY_QUOTA,
    ]
    for wrong in ("-1", "²", "١٢", "123456", "lots", ""):
        with pytest.raises(UserFacingError, match=re.escape(BAD_QUOTA)):
            parse_daily_quota(wrong)


async def test_the_core_refuses_a_daily_quota_above_the_cap(tmp_path: Path) -> None:
    async with FakeTelegram() as api, running_bot(tmp_path, api) as bot:
        group = Requester("telegram", str(ANN["id"]), str(GROUP["id"]))
        with pytest.raises(UserFacingError, match="at most 10,000 figures"):
            await bot.engine.update_chat_settings(group, daily_quota_per_user=MAX_DAILY_QUOTA + 1)
        assert (
            await bot.engine.update_chat_settings(group, daily_quota_per_user=MAX_DAILY_QUOTA)
        ).daily_quota_per_user == MAX_DAILY_QUOTA
