"""The Discord adapter end to end: the real discord.py client against a fake Discord on 127.0.0.1
(REST and gateway through the two base-URL settings), a real engine and SQLite store."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from discord.http import Route
from PIL import Image

from adapters.discord import DiscordAdapter
from bot.challenges import ChallengeService
from bot.config import Settings
from bot.engine import FIGURE_GONE, NOT_YOURS, JobEngine
from bot.generators.base import Painted, Progress, ProgressCallback
from bot.intake import Photo
from bot.jobs import ACTIVE, Job, Requester, Status
from bot.spec import FigureSpec
from bot.store.repository import Store
from tests.engine_kit import PERSON, ScriptedGenerator, eventually, serving_platform, settings_for, wait_until
from tests.fakes.discord_api import (
    ALL_PERMISSIONS,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    LOADING,
    FakeDiscord,
    Sent,
    User,
)

ALICE = User(100_000_000_000_000_001, "Alice")
BOB = User(100_000_000_000_000_002, "Bob")
TOKEN = "MTA0fake.bot.token-for-tests"
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
PNG = PERSON.read_bytes()


@dataclass
class GatedGenerator(ScriptedGenerator):
    """Paints only once ``gate`` is set, reporting ``steps`` progress updates (with a preview) first; with
    ``pause``, each after letting other tasks run (so the engine sends the update before it)."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    steps: int = 0
    pause: bool = False

    async def generate(
        self,
        photo: Photo,
        spec: FigureSpec,
        on_progress: ProgressCallback | None = None,
        requester: str = "",
    ) -> Image.Image | Painted:
        for step in range(self.steps):
            if self.pause:
                await asyncio.sleep(0)
            if on_progress:
                preview = Image.new("RGB", (32, 48), (10, 10 * step, 200))
                await on_progress(Progress((step + 1) / self.steps, "painting", preview))
        await self.gate.wait()
        return await super().generate(photo, spec, on_progress, requester)


@dataclass
class Bot:
    api: FakeDiscord
    engine: JobEngine
    store: Store
    generator: ScriptedGenerator
    settings: Settings
    challenges: ChallengeService
    adapter: DiscordAdapter

    async def run(self, interaction: dict[str, Any]) -> Sent:
        """Dispatch ``interaction`` and return the bot's callback to it."""
        await self.api.dispatch(interaction)
        return await self.api.callback(interaction)

    async def figure(self, user: User = ALICE, **options: Any) -> dict[str, Any]:
        """``/figure`` with the sample photo; the interaction, once the bot deferred it."""
        photo = options.pop("photo", None) or self.api.attachment(PNG, "me.png", "image/png")
        interaction = self.api.slash("figure", user, photo=photo, **options)
        callback = await self.run(interaction)
        assert callback.json["type"] == 5
        return interaction

    async def job_of(self, user: User = ALICE) -> Job:
        """The user's latest job, once the bot has submitted one."""
        async with asyncio.timeout(10):
            while (job := await self.store.jobs.latest("discord", str(user.id))) is None:
                await asyncio.sleep(0.02)
        return job

    def requester(self, user: User = ALICE) -> Requester:
        return Requester("discord", str(user.id), str(CHANNEL_ID), str(GUILD_ID))

    async def result(self, interaction: dict[str, Any]) -> dict[str, Any]:
        """The public message with the finished figure that followed ``interaction``."""
        return await self.api.wait_for(lambda: next(iter(self.api.followups(interaction)), None))

    async def idle(self) -> None:
        """Wait until no job is waiting, painting or undelivered."""

        async def settled() -> bool:
            return not await self.store.jobs.count("discord", statuses=ACTIVE) and not [
                job for job in await self.store.jobs.undelivered() if job.requester.platform == "discord"
            ]

        await eventually(settled)
        assert await settled()


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [item["custom_id"] for row in message["components"] for item in row["components"]]


def button(message: dict[str, Any], prefix: str) -> str:
    return next(custom_id for custom_id in custom_ids(message) if custom_id.startswith(prefix))


def answer_text(callback: Sent) -> str:
    """The text of an ephemeral type-4 answer."""
    assert callback.json["type"] == 4, callback.json
    assert callback.json["data"]["flags"] & EPHEMERAL
    return callback.json["data"]["content"]


async def private_answer(bot: Bot, interaction: dict[str, Any]) -> str:
    """What only the member sees: a one-line ephemeral answer, or the edit of a private "thinking…"."""
    callback = await bot.run(interaction)
    if callback.json["type"] == 4:
        return answer_text(callback)
    assert callback.json["type"] == 5 and callback.json["data"]["flags"] & EPHEMERAL
    message = await bot.api.wait_original(interaction, lambda message: message["content"] != "")
    assert not bot.api.followups(interaction)
    return message["content"]


def held(monkeypatch: pytest.MonkeyPatch, target: object, name: str) -> asyncio.Event:
    """Make the coroutine method ``target.name`` wait until the returned event is set: a store slow to
    write, to show that an answer does not wait for it."""
    gate = asyncio.Event()
    method = getattr(target, name)

    async def waiting(*args: Any, **kwargs: Any) -> Any:
        await gate.wait()
        return await method(*args, **kwargs)

    monkeypatch.setattr(target, name, waiting)
    return gate


@pytest.fixture
async def api() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@asynccontextmanager
async def running(
    api: FakeDiscord,
    tmp_path: Path,
    generator: ScriptedGenerator | None = None,
    clock: Callable[[], float] | None = None,
    **values: Any,
) -> AsyncIterator[Bot]:
    """The bot serving ``api`` with an engine on a SQLite store in ``tmp_path``, and challenges on
    ``clock`` (the engine's by default), until the block ends."""
    values = {
        "discord_token": TOKEN,
        "discord_api_base_url": api.api_url,
        "discord_gateway_url": api.gateway_url,
        **values,
    }
    settings = settings_for(tmp_path, **values)
    generator = generator or ScriptedGenerator()
    identified = len(api.identifies)

    def discord(engine: JobEngine, challenges: ChallengeService) -> DiscordAdapter:
        return DiscordAdapter(engine, settings, challenges)

    async with serving_platform(settings, generator, discord, clock) as (engine, store, challenges, adapter):
        await api.wait_ready(identifies=identified + 1)
        yield Bot(api, engine, store, generator, settings, challenges, adapter)


# -- connecting -------------------------------------------------------------------------------------


async def test_connects_through_both_base_urls_with_minimal_intents(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path):
        identify = api.identifies[0]
        assert identify["token"] == TOKEN
        assert identify["intents"] & PRIVILEGED_INTENTS == 0
        assert api.token == TOKEN  # REST calls carried it too
        await api.wait_for(lambda: api.heartbeats >= 1)  # sent at HELLO and acknowledged
        names = {command["name"] for command in api.commands[None]}
        assert {"figure", "Make my figure", "themes", "privacy", "forget", "cancel", "quota"} <= names
        assert "figure-settings" in names
        (group,) = [command for command in api.commands[None] if command["name"] == "challenge"]
        assert {option["name"] for option in group["options"]} == {
            "start",
            "status",
            "enter",
            "withdraw",
            "advance",
            "cancel",
            "leaderboard",
        }
        assert (group["contexts"], group["dm_permission"]) == ([0], False)  # in servers only
        assert not api.requests("GET", "/gateway")  # the gateway URL came from the settings
    assert Route.BASE == "https://discord.com/api/v10"  # other clients in the process are not affected


async def test_guild_sync_and_gateway_from_the_api(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path, discord_guild_ids=f"{GUILD_ID}", discord_gateway_url="") as bot:
        assert None not in api.commands
        assert "figure" in {command["name"] for command in api.commands[GUILD_ID]}
        assert api.requests("GET", "/gateway/bot")
        answer = await bot.run(api.slash("themes", ALICE))
        assert answer_text(answer).startswith("Themes: Astronaut")


# -- /figure ----------------------------------------------------------------------------------------


async def test_figure_is_deferred_then_answered_with_image_embed_and_buttons(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path) as bot:
        interaction = await bot.figure(name="Eileen", theme="astronaut", style="window")
        callback = await api.callback(interaction)
        download = (await api.wait_for(lambda: api.requests("GET", "/attachments/")))[0]
        assert callback.at <= download.at  # acknowledged before anything slow
        assert callback.json["data"]["flags"] & EPHEMERAL  # status lines are for the owner only

        result = await bot.result(interaction)
        assert not result["flags"] & EPHEMERAL
        embed = result["embeds"][0]
        assert embed["title"] == "Eileen"
        assert {(item["name"], item["value"]) for item in embed["fields"]} == {
            ("Theme", "Astronaut"),
            ("Made with", "scripted"),
        }
        (sent,) = api.files[int(result["id"])]
        assert embed["image"]["url"] == f"attachment://{sent.filename}"
        with Image.open(io.BytesIO(sent.data)) as image:
            assert image.format == "PNG"
        job_id = sent.filename.removeprefix("figure-").removesuffix(".png")
        assert custom_ids(result) == [f"fig:reroll:{job_id}", f"fig:delete:{job_id}", f"fig:theme:{job_id}"]
        status = await api.wait_original(interaction, lambda message: "ready" in message["content"])
        assert status["content"] == "✅ Eileen (Astronaut) is ready."
        job = await bot.store.jobs.get(job_id)
        assert (job.status, job.spec.style) == (Status.DONE, "window")
        await bot.idle()


async def test_status_edits_show_progress_with_a_preview_and_are_throttled(
    api: FakeDiscord, tmp_path: Path
) -> None:
    generator = GatedGenerator(steps=10)
    async with running(api, tmp_path, generator) as bot:
        interaction = await bot.figure(name="Sam")
        await api.wait_original(interaction, lambda message: "%" in message["content"])
        generator.gate.set()
        await bot.result(interaction)
        edits = [
            sent
            for sent in api.requests("PATCH", rf"/webhooks/\d+/{interaction['token']}/messages/")
            if "%" in (sent.json or {}).get("content", "")
        ]
        assert 1 <= len(edits) < generator.steps
        assert edits[0].files[0].filename == "preview.jpg"
        # Updates posted faster than the chat takes them are skipped: the latest one is shown.
        assert edits[0].json["content"] == "🎨 Painting Sam (Superhero)… 100%, painting"


async def test_a_slow_status_edit_does_not_hold_up_the_painting(api: FakeDiscord, tmp_path: Path) -> None:
    generator = GatedGenerator(steps=1, pause=True)
    generator.gate.set()
    async with running(api, tmp_path, generator, job_timeout=0.5, max_attempts=1) as bot:
        interaction = api.slash("figure", ALICE, photo=api.attachment(PNG, "me.png", "image/png"))
        # The queued and started statuses go through; the progress edit waits longer than a painting may.
        edits = rf"/webhooks/\d+/{interaction['token']}/messages/"
        api.rate_limit("PATCH", edits, retry_after=1.0, after=2)
        await bot.run(interaction)
        finished = await wait_until(
            bot.store, (await bot.job_of(ALICE)).id, lambda job: job.status not in ACTIVE
        )
        assert finished.status is Status.DONE, finished.error
        await bot.result(interaction)
        (limited,) = [sent for sent in api.requests("PATCH", edits) if sent.status == 429]
        assert "%" in limited.json["content"]
        await bot.idle()


async def test_a_public_figure_stays_public_when_its_status_message_cannot_be_edited(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path) as bot:
        interaction = api.slash(
            "figure", ALICE, photo=api.attachment(PNG, "me.png", "image/png"), name="Eileen"
        )
        # No edit ends the "thinking…": a follow-up would take its place, and be as private as it is.
        edits = rf"/webhooks/\d+/{interaction['token']}/messages/"
        api.fail("PATCH", edits, 404, code=10008, times=100)
        await bot.run(interaction)
        (posted,) = await api.wait_for(lambda: api.channel_messages())
        assert posted["embeds"][0]["title"] == "Eileen" and not posted["flags"] & EPHEMERAL
        await bot.idle()
        assert not api.followups(interaction)
        assert api.original(interaction)["flags"] & LOADING


async def test_names_and_free_text_themes_are_inert_in_the_figure_embed(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path) as bot:
        interaction = await bot.figure(name="**Eileen**", theme="[Free Nitro](https://evil.example)")
        embed = (await bot.result(interaction))["embeds"][0]
        assert embed["title"] == "\\*\\*Eileen\\*\\*"
        assert embed["fields"][0]["value"] == "\\[Free Nitro](https://evil.example)"  # not a masked link
        await bot.idle()


async def test_private_figure_replaces_the_status_message(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path) as bot:
        interaction = await bot.figure(private=True)
        result = await api.wait_original(interaction, lambda message: bool(message["embeds"]))
        assert result["flags"] & EPHEMERAL
        assert result["embeds"][0]["title"] == "Alice"  # the display name when no name is given
        assert button(result, "fig:reroll:")
        await bot.idle()
        assert not api.followups(interaction)


async def test_theme_autocomplete_offers_catalog_themes_and_free_text(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path) as bot:
        answer = await bot.run(api.autocomplete("figure", ALICE, "theme", "pi"))
        assert answer.json["type"] == 8
        choices = answer.json["data"]["choices"]
        assert choices[0] == {"name": "pi", "value": "pi"}
        assert {"name": "Pirate", "value": "pirate"} in choices
        everything = await bot.run(api.autocomplete("figure", ALICE, "theme", ""))
        assert len(everything.json["data"]["choices"]) == 17


# -- buttons ----------------------------------------------------------------------------------------


async def test_reroll_by_the_owner_and_a_refusal_for_anyone_else(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path) as bot:
        result = await bot.result(await bot.figure(name="Eileen"))
        reroll = button(result, "fig:reroll:")

        refused = await bot.run(api.press(api.public(result), reroll, BOB))
        assert answer_text(refused) == NOT_YOURS

        press = api.press(api.public(result), reroll, ALICE)
        deferred = await bot.run(press)
        assert deferred.json["type"] == 5
        again = await bot.result(press)
        assert again["embeds"][0]["title"] == "Eileen"
        await bot.idle()
        assert bot.generator.painted == ["Eileen", "Eileen"]

        themed = api.press(api.public(result), button(result, "fig:theme:"), ALICE, values=["pirate"])
        await bot.run(themed)
        assert (await bot.result(themed))["embeds"][0]["fields"][0]["value"] == "Pirate"
        await bot.idle()


async def test_a_double_tap_on_re_roll_or_a_theme_makes_one_figure(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path) as bot:
        result = await bot.result(await bot.figure(name="Eileen"))
        await bot.idle()
        message = api.public(result)
        for custom_id, values in (
            (button(result, "fig:reroll:"), None),
            (button(result, "fig:theme:"), ["pirate"]),
        ):
            taps = [api.press(message, custom_id, ALICE, values) for _ in range(2)]
            for tap in taps:
                await api.dispatch(tap)
            answers = [(await api.callback(tap)).json["type"] for tap in taps]
            assert sorted(answers) == [5, 6]  # one figure on its way; the other tap only acknowledged
            await bot.result(taps[answers.index(5)])  # deferred before it is submitted: wait for it
        await bot.idle()
        assert bot.generator.painted == ["Eileen"] * 3


async def test_buttons_keep_working_after_a_restart(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path) as bot:
        result = await bot.result(await bot.figure(name="Eileen"))
        await bot.idle()
    async with running(api, tmp_path) as bot:
        press = api.press(api.public(result), button(result, "fig:reroll:"), ALICE)
        assert (await bot.run(press)).json["type"] == 5
        assert (await bot.result(press))["embeds"][0]["title"] == "Eileen"
        delete = api.press(api.public(result), button(result, "fig:delete:"), ALICE)
        assert (await bot.run(delete)).json["type"] == 6
        await api.wait_for(lambda: api.messages[int(result["id"])].get("_deleted"))
        assert await bot.store.jobs.get(button(result, "fig:delete:").removeprefix("fig:delete:")) is None
        await bot.idle()


def forged(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    """``message`` as an interaction payload whose first button carries ``custom_id``."""
    copy = deepcopy(message)
    copy["components"][0]["components"][0]["custom_id"] = custom_id
    return copy


async def test_stale_or_forged_button_data_gets_one_line_and_breaks_nothing(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path) as bot:
        result = await bot.result(await bot.figure())
        message = api.public(result)
        unknown = forged(message, "fig:reroll:ffffffffffffffff")
        gone = await bot.run(api.press(unknown, "fig:reroll:ffffffffffffffff", ALICE))
        assert answer_text(gone) == FIGURE_GONE
        theme = await bot.run(api.press(message, button(result, "fig:theme:"), ALICE, values=["<script>"]))
        assert answer_text(theme) == "I don't know that theme; pick one from the list."
        others = forged(message, f"fig:forget:{BOB.id}")
        forget = await bot.run(api.press(others, f"fig:forget:{BOB.id}", ALICE))
        assert "someone else's data" in answer_text(forget)
        for custom_id in ("fig:reroll:../../etc", "fig:reroll:" + "f" * 90, "x" * 100):  # match no button
            await api.dispatch(api.press(forged(message, custom_id), custom_id, ALICE))
        assert answer_text(await bot.run(api.slash("themes", ALICE))).startswith("Themes:")
        await bot.idle()
        assert len(bot.generator.started) == 1

        await bot.engine.forget(bot.requester(ALICE))
        stale = await bot.run(api.press(message, button(result, "fig:reroll:"), ALICE))
        assert answer_text(stale) == FIGURE_GONE


async def test_delete_removes_only_the_message_that_shows_the_figure(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path) as bot:
        alices = await bot.result(await bot.figure(ALICE, name="Alice"))
        bobs = await bot.result(await bot.figure(BOB, name="Bob"))
        await bot.idle()
        delete = button(bobs, "fig:delete:")
        press = api.press(forged(api.public(alices), delete), delete, BOB)  # Bob's Delete on Alice's figure
        assert (await bot.run(press)).json["type"] == 6
        note = await api.wait_for(lambda: next(iter(api.followups(press)), None))
        assert note["content"] == "Deleted the figure I kept; this message shows another one, so it stays."
        assert note["flags"] & EPHEMERAL
        assert not api.messages[int(alices["id"])].get("_deleted")
        assert await bot.store.jobs.get(delete.removeprefix("fig:delete:")) is None


async def test_buttons_and_settings_answer_before_the_store_writes(
    api: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(api, tmp_path) as bot:
        result = await bot.result(await bot.figure())
        await bot.idle()
        deleting = held(monkeypatch, bot.engine, "delete_figure")
        delete = api.press(api.public(result), button(result, "fig:delete:"), ALICE)
        assert (await bot.run(delete)).json["type"] == 6
        deleting.set()
        await api.wait_for(lambda: api.messages[int(result["id"])].get("_deleted"))

        saving = held(monkeypatch, bot.engine, "update_chat_settings")
        settings = api.slash("figure-settings", ALICE, daily_quota="5", permissions=ALL_PERMISSIONS)
        assert (await bot.run(settings)).json["type"] == 5
        saving.set()
        saved = await api.wait_original(settings, lambda message: message["content"] != "")
        assert "• figures per member per day: 5" in saved["content"]


async def test_a_job_forgotten_while_painting_leaves_no_throttle_entry(
    api: FakeDiscord, tmp_path: Path
) -> None:
    generator = GatedGenerator(steps=1)
    async with running(api, tmp_path, generator) as bot:
        delivery = bot.adapter.delivery
        delivery.edit_interval = 0.05
        alices = await bot.figure(ALICE, name="Alice")
        await api.wait_original(alices, lambda message: "100%" in message["content"])
        forgotten = await bot.job_of(ALICE)
        await bot.engine.forget(bot.requester(ALICE))  # no final event follows: the job is gone
        await asyncio.sleep(0.06)  # past the interval
        bobs = await bot.figure(BOB, name="Bob")
        await api.wait_original(bobs, lambda message: "100%" in message["content"])
        assert forgotten.id not in delivery._last_edit
        generator.gate.set()
        await bot.result(bobs)
        await bot.idle()


# -- delivery after the interaction token expired ------------------------------------------------------


async def test_a_figure_finishing_after_the_token_expired_is_posted_in_the_channel(
    api: FakeDiscord, tmp_path: Path
) -> None:
    generator = GatedGenerator()
    async with running(api, tmp_path, generator) as bot:
        interaction = await bot.figure(name="Eileen @everyone")
        api.expire(interaction)
        generator.gate.set()
        posted = await api.wait_for(lambda: api.channel_messages())
        message = posted[0]
        expected = f"<@{ALICE.id}> your figure of Eileen @\u200beveryone (Superhero) is ready."
        assert message["content"] == expected
        assert message["allowed_mentions"] == {"parse": [], "users": [ALICE.id]}
        assert message["embeds"][0]["title"] == "Eileen @everyone"
        assert button(message, "fig:reroll:")
        assert api.files[int(message["id"])]
        await bot.idle()
        assert not api.followups(interaction)


async def test_an_old_interaction_is_not_used_and_private_figures_go_by_dm(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path) as bot:
        photo = api.attachment(PNG, "me.png", "image/png")
        old = api.slash("figure", ALICE, photo=photo, private=True, created=time.time() - 16 * 60)
        assert (await bot.run(old)).json["type"] == 5
        dm = await api.wait_for(lambda: api.dm_channel(ALICE))
        message = await api.wait_for(lambda: api.channel_messages(dm))
        assert message[0]["embeds"][0]["title"] == "Alice"
        await bot.idle()
        assert not api.channel_messages()
        token_calls = api.requests("PATCH", rf"/webhooks/\d+/{old['token']}")
        assert not token_calls  # a token this old is never tried


async def test_a_figure_finished_while_the_bot_was_away_is_delivered_at_start(
    api: FakeDiscord, tmp_path: Path
) -> None:
    generator = GatedGenerator()
    async with running(api, tmp_path, generator) as bot:
        interaction = await bot.figure(name="Eileen")
        job = await bot.job_of(ALICE)
        api.expire(interaction)
        api.fail("POST", rf"/channels/{CHANNEL_ID}/messages", 503, times=1000)  # Discord is down
        generator.gate.set()
        await api.wait_for(lambda: api.requests("POST", "/channels/"))
    api.heal()
    async with running(api, tmp_path) as bot:
        posted = await api.wait_for(lambda: api.channel_messages())
        assert posted[0]["embeds"][0]["title"] == "Eileen"
        await bot.idle()
        assert (await bot.store.jobs.get(job.id)).delivered_at is not None
    assert len(api.channel_messages()) == 1


# -- other commands ---------------------------------------------------------------------------------


async def test_forget_asks_then_deletes_and_reports(
    api: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(api, tmp_path) as bot:
        await bot.result(await bot.figure())
        await bot.idle()
        forget = api.slash("forget", ALICE)
        question = await bot.run(forget)
        assert "Are you sure?" in answer_text(question)
        confirm = custom_ids(question.json["data"])[0]
        assert confirm == f"fig:forget:{ALICE.id}"
        deleting = held(monkeypatch, bot.engine, "forget")
        press = api.press(api.public(api.original(forget)), confirm, ALICE)
        assert (await bot.run(press)).json["type"] == 6  # answered before the deletion, which may be slow
        deleting.set()
        done = await api.wait_original(press, lambda message: message["content"].startswith("Forgotten"))
        assert done["content"].startswith("Forgotten. Deleted: 1 photo, 1 figure, 1 job")
        assert done["components"] == []
        assert await bot.store.jobs.latest("discord", str(ALICE.id)) is None


async def test_cancel_and_quota(api: FakeDiscord, tmp_path: Path) -> None:
    generator = GatedGenerator()
    async with running(api, tmp_path, generator) as bot:
        nothing = await private_answer(bot, api.slash("cancel", ALICE))
        assert nothing == "You have no figure in the works to cancel."
        interaction = await bot.figure(name="Eileen")
        await bot.job_of(ALICE)
        quota = answer_text(await bot.run(api.slash("quota", ALICE)))
        assert "• you: 1 of 100 figures" in quota
        assert "• in the works now: 1 of 2" in quota
        await api.wait_original(interaction, lambda message: message["content"].startswith("🎨"))
        edits = rf"/webhooks/\d+/{interaction['token']}/messages/"
        api.rate_limit("PATCH", edits, retry_after=0.5)  # Discord holds the job's "Cancelled" status back
        cancel = api.slash("cancel", ALICE)
        assert await private_answer(bot, cancel) == "Cancelled: Eileen (Superhero)."
        limited, shown = api.requests("PATCH", edits)[-2:]
        assert (limited.status, shown.status) == (429, 200)
        assert (await api.callback(cancel)).at < limited.at  # acknowledged before the slow edit began
        assert api.original(interaction)["content"] == "Cancelled: Eileen (Superhero)."
        generator.gate.set()
        await bot.idle()
        assert not api.followups(interaction)


async def test_privacy_notice_and_consent_before_a_first_figure(
    api: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generator = ScriptedGenerator(sends_photo_off_machine=True)
    async with running(api, tmp_path, generator) as bot:
        notice = await bot.run(api.slash("privacy", ALICE))
        assert "sent to the scripted image service" in answer_text(notice)
        assert custom_ids(notice.json["data"]) == ["fig:accept"]

        interaction = await bot.figure()
        asked = await api.wait_original(interaction, lambda message: bool(message["components"]))
        assert asked["content"].startswith("Privacy notice")
        saving = held(monkeypatch, bot.engine, "accept_privacy")
        accept = api.press(api.public(asked), "fig:accept", ALICE)
        assert (await bot.run(accept)).json["type"] == 6  # answered before the consent is stored
        saving.set()
        accepted = await api.wait_original(accept, lambda message: message["content"].startswith("Thanks"))
        assert accepted["components"] == []

        await bot.result(await bot.figure())
        await bot.idle()
        assert len(bot.generator.painted) == 1


# -- the message menu -------------------------------------------------------------------------------


async def test_make_my_figure_from_a_message_with_a_photo(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path) as bot:
        mine = api.user_message(ALICE, "me!", [api.attachment(PNG, "me.png", "image/png")])
        menu = api.message_command("Make my figure", ALICE, mine)
        assert (await bot.run(menu)).json["type"] == 5
        assert (await bot.result(menu))["embeds"][0]["title"] == "Alice"

        theirs = api.message_command("Make my figure", BOB, mine)
        assert "your own messages" in answer_text(await bot.run(theirs))
        text_only = api.user_message(ALICE, "no photo here")
        menu = api.message_command("Make my figure", ALICE, text_only)
        assert answer_text(await bot.run(menu)) == "That message has no photo attached."
        await bot.idle()


# -- bad input --------------------------------------------------------------------------------------


async def test_bad_attachments_get_one_ephemeral_line_each(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path, photo_max_mb=1) as bot:

        async def refusal(photo: dict[str, Any], **options: Any) -> str:
            interaction = api.slash("figure", ALICE, photo=photo, **options)
            callback = await bot.run(interaction)
            if callback.json["type"] == 4:
                return answer_text(callback)
            assert callback.json["data"]["flags"] & EPHEMERAL
            message = await api.wait_original(interaction, lambda message: message["content"] != "")
            return message["content"]

        text = api.attachment(b"hello", "notes.txt", "text/plain")
        assert (await refusal(text)).startswith("I can't make a figure from a text file.")
        video = api.attachment(b"\0" * 10, "clip.mp4", "video/mp4")
        assert (await refusal(video)).startswith("I can't make a figure from a video.")

        huge = api.attachment(PNG, "huge.png", "image/png", size=3 * 1024 * 1024)
        assert await refusal(huge) == "That file is 3 MB; the limit is 1 MB."
        over_interaction_limit = api.attachment(PNG, "me.png", "image/png", size=300 * 1024)
        assert await refusal(over_interaction_limit, size_limit=200 * 1024) == (
            "That file is 300 KB; the limit is 200 KB."
        )
        assert not api.requests("GET", "/attachments/")  # all refused before downloading

        lying = api.attachment(b"\x89PNG" + b"\0" * (1100 * 1024), "big.png", "image/png", size=1000)
        assert (await refusal(lying)).endswith("the limit is 1 MB.")
        broken = api.attachment(b"\x89PNG\r\n\x1a\nnot really", "broken.png", "image/png")
        assert await refusal(broken) == "That photo looks damaged or incomplete; please send it again."
        disguised = api.attachment(b"just some text", "text.png", "image/png")
        assert (await refusal(disguised)).startswith("That file is not a photo I can read.")
        missing = api.attachment(PNG, "gone.png", "image/png")
        api.fail("GET", "/attachments/", 404)
        assert await refusal(missing) == "I couldn't download that photo from Discord; please try again."
        long_name = await refusal(api.attachment(PNG, "me.png", "image/png"), name="N" * 41)
        assert "the limit is 40" in long_name

        assert not bot.generator.started
        await bot.result(await bot.figure(name="Fine"))  # and the bot still works
        await bot.idle()


async def test_an_over_quota_figure_gets_one_line(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path, daily_quota_per_user=1) as bot:
        await bot.result(await bot.figure())
        await bot.idle()
        over = await bot.figure()
        message = await api.wait_original(over, lambda message: message["content"] != "")
        assert message["content"].startswith("You have made 1 figures today; the daily limit is 1.")


async def test_figure_settings_are_for_admins_and_channels_are_honoured(
    api: FakeDiscord, tmp_path: Path
) -> None:
    async with running(api, tmp_path) as bot:
        refused = await private_answer(bot, api.slash("figure-settings", BOB, channels="all"))
        assert "Manage Server" in refused

        other = 720_000_000_000_000_009
        admin = {"permissions": ALL_PERMISSIONS}
        saved = await private_answer(
            bot, api.slash("figure-settings", ALICE, channels=f"<#{other}>", **admin)
        )
        assert f"• makes figures in: <#{other}>" in saved
        photo = api.attachment(PNG, "me.png", "image/png")
        blocked = await private_answer(bot, api.slash("figure", ALICE, photo=photo))
        assert blocked == f"I make figures only in <#{other}> on this server."
        assert not api.requests("GET", "/attachments/")

        bad = await private_answer(
            bot, api.slash("figure-settings", ALICE, channels="#general @everyone", **admin)
        )
        assert bad == (
            "I can't read '\\#general' as a channel: mention channels like #figures, or write all."
        )
        bad = await private_answer(bot, api.slash("figure-settings", ALICE, daily_quota="lots", **admin))
        assert bad == "The daily quota is a number of figures (0 or more), or default."
        bad = await private_answer(bot, api.slash("figure-settings", ALICE, photo_retention="soon", **admin))
        assert bad.startswith("I can't read 'soon' as a time")

        in_thread = await bot.figure(channel_id=720_000_000_000_000_077, thread_of=other)
        await bot.result(in_thread)  # a thread is open where its channel is
        photo = api.attachment(PNG, "me.png", "image/png")
        elsewhere = api.slash(
            "figure", ALICE, photo=photo, channel_id=720_000_000_000_000_078, thread_of=CHANNEL_ID
        )
        assert await private_answer(bot, elsewhere) == f"I make figures only in <#{other}> on this server."

        changes = {"channels": "all", "daily_quota": "5", "photo_retention": "30m", "local_only": True}
        saved = await private_answer(bot, api.slash("figure-settings", ALICE, **changes, **admin))
        assert "• makes figures in: everywhere" in saved
        assert "• figures per member per day: 5" in saved
        assert "• photos kept after their last figure: 30 minutes" in saved
        settings = await bot.engine.chat_settings(bot.requester(ALICE))
        assert settings.daily_quota_per_user == 5 and settings.local_only
        await bot.result(await bot.figure())
        await bot.idle()


# -- rate limits ------------------------------------------------------------------------------------


async def test_a_rest_429_is_waited_out_and_retried(api: FakeDiscord, tmp_path: Path) -> None:
    async with running(api, tmp_path) as bot:
        api.rate_limit("POST", r"/webhooks/\d+/[^/]+$", retry_after=0.3)  # the follow-up with the figure
        api.rate_limit("POST", r"/users/@me/channels", retry_after=0.3)  # a bot REST call
        interaction = await bot.figure()
        await bot.result(interaction)
        first, second = api.requests("POST", r"/webhooks/\d+/[^/]+$")
        assert (first.status, second.status) == (429, 200)
        assert second.at - first.at >= 0.3

        old = api.slash(
            "figure",
            ALICE,
            photo=api.attachment(PNG, "me.png", "image/png"),
            private=True,
            created=time.time() - 16 * 60,
        )
        await bot.run(old)
        dm = await api.wait_for(lambda: api.dm_channel(ALICE))
        await api.wait_for(lambda: api.channel_messages(dm))
        first, second = api.requests("POST", "/users/@me/channels")
        assert (first.status, second.status) == (429, 200)
        assert second.at - first.at >= 0.3
        await bot.idle()


async def test_each_reroll_is_a_new_variant_and_notes_come_in_the_embed(
    api: FakeDiscord, tmp_path: Path
) -> None:
    generator = ScriptedGenerator(notes=("I could not draw: *jetpack*",))
    async with running(api, tmp_path, generator) as bot:
        result = await bot.result(await bot.figure(name="Eileen", costume="*jetpack*"))
        assert result["embeds"][0]["description"] == "I could not draw: \\*jetpack\\*"
        await bot.idle()
        press = api.press(api.public(result), button(result, "fig:reroll:"), ALICE)
        await bot.run(press)
        again = await bot.result(press)
        await bot.idle()
        themed = api.press(api.public(result), button(result, "fig:theme:"), ALICE, values=["pirate"])
        await bot.run(themed)  # the first figure once more
        await bot.result(themed)
        await bot.idle()
        press = api.press(api.public(again), button(again, "fig:reroll:"), ALICE)
        await bot.run(press)
        assert (await bot.result(press))["embeds"][0]["description"] == "I could not draw: \\*jetpack\\*"
        await bot.idle()
        assert [(spec.theme, spec.variant) for spec in generator.specs] == [
            ("superhero", 1),
            ("superhero", 2),
            ("pirate", 3),
            ("superhero", 4),
        ]
