"""Figures painted by the real ComfyUI generator against a fake ComfyUI server, end to end through the real
chat adapters: python-telegram-bot against a fake Bot API, discord.py against a fake Discord, a real
engine and SQLite store."""

from __future__ import annotations

import io
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adapters.discord import DiscordAdapter
from adapters.discord.delivery import EDIT_INTERVAL
from adapters.telegram import TelegramAdapter
from bot.app import PlatformAdapter
from bot.challenges import ChallengeService
from bot.config import Settings
from bot.engine import JobEngine
from bot.generators.comfyui.generator import ComfyUIGenerator
from bot.generators.local import LocalGenerator
from bot.jobs import Status
from bot.store.repository import Store
from tests.engine_kit import PERSON, eventually, serving_platform, settings_for
from tests.fakes.comfyui import FakeComfyUI
from tests.fakes.discord_api import ALL_PERMISSIONS, EPHEMERAL, FakeDiscord
from tests.fakes.telegram_api import TOKEN, Call, FakeTelegram
from tests.photo_factory import encode, gps_exif
from tests.test_discord import ALICE, private_answer
from tests.test_discord import TOKEN as DISCORD_TOKEN
from tests.test_discord import Bot as DiscordBot
from tests.test_telegram import FAST, figures, next_figure

# python-telegram-bot itself warns about the type of RetryAfter.retry_after whenever it raises one.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

STEP = 0.08  # seconds per sampler step on the fake GPU: the bundled workflow takes 4
FIGURE_SIZE = (1024, 1536)
STATUS_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageCaption"})
METADATA_CHUNKS = {b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP", b"tIME"}


def gps_tagged_photo() -> bytes:
    """The sample portrait as a camera JPEG: a camera model and a GPS position in its EXIF."""
    with Image.open(PERSON) as image:
        return encode(image.convert("RGB"), "JPEG", exif=gps_exif(), quality=90)


def png_chunks(data: bytes) -> list[bytes]:
    """The chunk types of a PNG file, in order."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        chunks.append(kind)
        offset += 12 + length
    return chunks


def comfy_values(comfy: FakeComfyUI, **values: Any) -> dict[str, Any]:
    """Settings that make ComfyUI at ``comfy`` the default generator."""
    return {
        "comfyui_urls": comfy.origin,
        "figurebot_generator": "comfyui",
        "comfyui_timeout": 10.0,
        "max_active_jobs_per_user": 0,
        **values,
    }


@asynccontextmanager
async def serving(
    settings: Settings, make_adapter: Callable[[JobEngine, ChallengeService], PlatformAdapter]
) -> AsyncIterator[tuple[JobEngine, Store, ChallengeService, Any]]:
    """``engine_kit.serving_platform`` with the ComfyUI generator as ``figurebot run`` builds it, and the
    local one beside it (a chat that keeps photos on the bot's own machines needs one that paints there)."""
    size = (settings.figure_width, settings.figure_height)
    comfyui = ComfyUIGenerator(settings, LocalGenerator(size))
    local = LocalGenerator(size)
    async with serving_platform(settings, comfyui, make_adapter, others=(local,)) as served:  # type: ignore[arg-type]
        yield served


# -- Telegram -----------------------------------------------------------------------------------------


@dataclass
class TelegramBot:
    api: FakeTelegram
    comfy: FakeComfyUI
    engine: JobEngine
    store: Store


@asynccontextmanager
async def telegram_bot(
    tmp_path: Path, api: FakeTelegram, comfy: FakeComfyUI, **values: Any
) -> AsyncIterator[TelegramBot]:
    settings = settings_for(
        tmp_path,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=api.base_url,
        telegram_file_base_url=api.file_base_url,
        **comfy_values(comfy, **values),
    )

    def telegram(engine: JobEngine, challenges: ChallengeService) -> TelegramAdapter:
        return TelegramAdapter(engine, settings, challenges, flood=FAST)

    async with serving(settings, telegram) as (engine, store, _, _):
        await api.wait_for(lambda call: call.method == "setMyCommands")
        yield TelegramBot(api, comfy, engine, store)


def status_text(call: Call) -> str:
    """The line a status call put in the chat: its text, caption, or its photo's caption."""
    if call.method == "editMessageMedia":
        return str(call.params["media"].get("caption") or "")
    return str(call.params.get("text") or call.params.get("caption") or "")


def previews(api: FakeTelegram, chat_id: int) -> list[Call]:
    """The painting previews shown on the status message: a photo without buttons, then its edits."""
    return [
        call
        for call in api.sent(chat_id=chat_id)
        if (call.method == "sendPhoto" and "reply_markup" not in call.params)
        or call.method == "editMessageMedia"
    ]


def preview_image(call: Call) -> Image.Image:
    data = call.files["photo"] if call.method == "sendPhoto" else call.files[call.params["media"]["media"]]
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_telegram_photo_is_painted_on_the_gpu_server_with_progress_and_previews(
    tmp_path: Path,
) -> None:
    async with (
        FakeComfyUI(step_delay=STEP) as comfy,
        FakeTelegram() as api,
        telegram_bot(tmp_path, api, comfy) as bot,
    ):
        ann = api.user(1001, "Ann")
        sent = api.send_photo(ann, gps_tagged_photo(), caption="Alex | astronaut")
        figure = await next_figure(api, 1001)

        # The boxed figure, as a photo answering the user's.
        assert figure.params["caption"] == "Alex (Astronaut)"
        assert figure.params["reply_parameters"]["message_id"] == sent["message_id"]
        with Image.open(io.BytesIO(figure.files["photo"])) as boxed:
            assert (boxed.format, boxed.size) == ("PNG", FIGURE_SIZE)
        job = await bot.store.jobs.latest("telegram", "1001")
        assert job is not None and (job.generator, job.painter) == ("comfyui", "comfyui")

        # Before it: the status message went through the painting, percentages and previews.
        before = [call for call in api.sent(chat_id=1001) if call.at <= figure.at and call is not figure]
        lines = [status_text(call) for call in before]
        painting = [line for line in lines if "%" in line]
        assert painting, lines
        assert all(line.startswith("🎨 Painting Alex (Astronaut)… ") for line in painting)
        assert any(line.endswith("%, painting") for line in painting), painting
        shown = previews(api, 1001)
        assert shown and all(call.at < figure.at for call in shown)
        assert comfy.previews_sent >= len(shown)  # ComfyUI's own previews, passed on (coalesced)
        first = shown[0]
        assert status_text(first).startswith("🎨 Painting Alex (Astronaut)… ")
        with preview_image(first) as image:
            assert image.format == "JPEG" and max(image.size) <= 640
            assert abs(image.width / image.height - 2 / 3) < 0.02  # the painting's own shape
        # The first preview replaced the text status; the preview message went when the figure came.
        text_status = api.sent("sendMessage", 1001)[0]
        assert (1001, text_status.result["message_id"]) in api.deleted
        await eventually(lambda: (1001, first.result["message_id"]) in api.deleted)
        assert (1001, first.result["message_id"]) in api.deleted

        # ComfyUI got a clean PNG of the photo, and kept no history of the prompt.
        (upload,) = comfy.uploads
        assert (upload.type, upload.content_type) == ("temp", "image/png")
        assert not METADATA_CHUNKS & set(png_chunks(upload.content))
        with Image.open(io.BytesIO(upload.content)) as uploaded:
            assert uploaded.format == "PNG" and not uploaded.info and not uploaded.getexif()
        (prompt,) = comfy.prompts
        assert prompt.prompt["41"]["inputs"]["image"] == f"{upload.name} [temp]"
        await eventually(lambda: comfy.history_deletes == [prompt.prompt_id])
        assert comfy.history_deletes == [prompt.prompt_id] and prompt.prompt_id not in comfy.history


async def test_telegram_cancel_interrupts_the_painting_on_the_gpu_server(tmp_path: Path) -> None:
    async with (
        FakeComfyUI(step_delay=0.5) as comfy,  # 2 s of painting: time to cancel it mid-way
        FakeTelegram() as api,
        telegram_bot(tmp_path, api, comfy) as bot,
    ):
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PERSON.read_bytes(), caption="Alex")
        prompt_id = await comfy.until_running()
        await api.wait_for_text(1001, "%")  # painting, as the status message says
        api.send_text(ann, "/cancel")
        await api.wait_for_text(1001, "Cancelled: Alex (Superhero).")
        await eventually(lambda: comfy.interrupts and prompt_id in comfy.history_deletes)
        assert comfy.interrupts == [{"prompt_id": prompt_id}]
        assert comfy.queue_deletes == []  # it was running, not waiting
        assert comfy.history_deletes == [prompt_id] and prompt_id not in comfy.history
        await eventually(lambda: comfy.running is None)
        assert comfy.running is None  # the GPU stopped painting it
        job = await bot.store.jobs.latest("telegram", "1001")
        assert job is not None and job.status is Status.CANCELLED
        assert not figures(api, 1001)


async def test_telegram_cancel_takes_a_waiting_figure_off_the_gpu_server_queue(tmp_path: Path) -> None:
    async with (
        FakeComfyUI(step_delay=STEP) as comfy,
        FakeTelegram() as api,
        telegram_bot(tmp_path, api, comfy) as bot,
    ):
        comfy.hold()
        others = comfy.queue_foreign(1)
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PERSON.read_bytes(), caption="Alex")
        await eventually(lambda: comfy.prompts)
        (prompt,) = comfy.prompts
        assert comfy.pending == [*others, prompt.prompt_id]
        api.send_text(ann, "/cancel")
        await api.wait_for_text(1001, "Cancelled: Alex (Superhero).")
        await eventually(lambda: prompt.prompt_id in comfy.history_deletes)
        assert comfy.queue_deletes == [prompt.prompt_id]
        assert comfy.pending == others and comfy.interrupts == []
        comfy.release()  # the other client's prompt runs; ours never does
        await eventually(lambda: others[0] in comfy.history and comfy.running is None)
        assert others[0] in comfy.history and prompt.prompt_id not in comfy.history
        job = await bot.store.jobs.latest("telegram", "1001")
        assert job is not None and job.status is Status.CANCELLED
        assert not figures(api, 1001)


async def test_telegram_status_shows_the_place_in_a_slow_gpu_queue(tmp_path: Path) -> None:
    async with (
        FakeComfyUI(step_delay=STEP) as comfy,
        FakeTelegram() as api,
        telegram_bot(tmp_path, api, comfy),
    ):
        comfy.hold()
        others = comfy.queue_foreign(2)
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PERSON.read_bytes(), caption="Alex | pirate")
        # The generator looks at the server's queue after a while without news (QUEUE_POLL, 2 s).
        waiting = await api.wait_for_text(1001, "in the GPU queue", timeout=8)
        assert (waiting.get("text") or waiting.get("caption")) == (
            "🎨 Painting Alex (Pirate)… 0%, in the GPU queue, 2 ahead"
        )
        assert not comfy.history  # nothing ran yet
        comfy.release()
        figure = await next_figure(api, 1001)
        assert figure.params["caption"] == "Alex (Pirate)"
        assert all(other in comfy.history for other in others)  # the other client's prompts ran first
        (prompt,) = comfy.prompts
        queued_at = next(call.at for call in api.calls if "in the GPU queue" in status_text(call))
        painted = [
            call
            for call in api.sent(chat_id=1001)
            if queued_at < call.at < figure.at and "%, painting" in status_text(call)
        ]
        assert painted  # then it painted, with its progress shown
        await eventually(lambda: comfy.history_deletes == [prompt.prompt_id])
        assert comfy.history_deletes == [prompt.prompt_id]


# -- Discord ------------------------------------------------------------------------------------------


@asynccontextmanager
async def discord_bot(
    tmp_path: Path, api: FakeDiscord, comfy: FakeComfyUI, **values: Any
) -> AsyncIterator[DiscordBot]:
    settings = settings_for(
        tmp_path,
        discord_token=DISCORD_TOKEN,
        discord_api_base_url=api.api_url,
        discord_gateway_url=api.gateway_url,
        **comfy_values(comfy, **values),
    )
    identified = len(api.identifies)

    def discord(engine: JobEngine, challenges: ChallengeService) -> DiscordAdapter:
        return DiscordAdapter(engine, settings, challenges)

    async with serving(settings, discord) as (engine, store, challenges, adapter):
        await api.wait_ready(identifies=identified + 1)
        adapter.delivery.edit_interval = 0.05  # progress edits at most every 50 ms: several per figure
        yield DiscordBot(api, engine, store, engine.generators["comfyui"], settings, challenges, adapter)


def status_edits(api: FakeDiscord, interaction: dict[str, Any]) -> list[Any]:
    """The edits of the interaction's status message ("thinking…" and what followed)."""
    return api.requests("PATCH", rf"/webhooks/\d+/{interaction['token']}/messages/")


async def test_discord_figure_is_painted_on_the_gpu_server_with_progress(tmp_path: Path) -> None:
    async with (
        FakeComfyUI(step_delay=STEP) as comfy,
        FakeDiscord() as api,
        discord_bot(tmp_path, api, comfy) as bot,
    ):
        interaction = await bot.figure(name="Eileen", theme="astronaut")
        result = await bot.result(interaction)
        followup = next(sent for sent in api.requests("POST", rf"/webhooks/\d+/{interaction['token']}$"))
        assert not result["flags"] & EPHEMERAL
        embed = result["embeds"][0]
        assert embed["title"] == "Eileen"
        assert {(item["name"], item["value"]) for item in embed["fields"]} == {
            ("Theme", "Astronaut"),
            ("Made with", "comfyui"),
        }
        (sent,) = api.files[int(result["id"])]
        assert embed["image"]["url"] == f"attachment://{sent.filename}"
        with Image.open(io.BytesIO(sent.data)) as boxed:
            assert (boxed.format, boxed.size) == ("PNG", FIGURE_SIZE)

        progress = [
            edit
            for edit in status_edits(api, interaction)
            if "%" in ((edit.json or {}).get("content") or "") and edit.at < followup.at
        ]
        assert progress, [edit.json for edit in status_edits(api, interaction)]
        assert all(edit.json["content"].startswith("🎨 Painting Eileen (Astronaut)… ") for edit in progress)
        assert any("%, painting" in edit.json["content"] for edit in progress)
        status = api.original(interaction)
        assert status is not None and status["content"] == "✅ Eileen (Astronaut) is ready."
        (prompt,) = comfy.prompts
        await eventually(lambda: comfy.history_deletes == [prompt.prompt_id])
        assert comfy.history_deletes == [prompt.prompt_id]
        await bot.idle()


async def test_discord_status_shows_the_gpu_server_s_previews(tmp_path: Path) -> None:
    """The Discord adapter shows a generator's preview as a ``preview.jpg`` on the status message, at most
    one progress edit every ``EDIT_INTERVAL`` (2 s). A painting of 2.4 s gets two such edits, and ComfyUI
    sent four previews by the second one: that edit should carry the latest of them.

    FAILS (a bug): the ComfyUI client reports each sampler step twice, first ``Progress(fraction,
    "painting")`` on the ``progress`` event, then, a millisecond later, ``Progress(fraction, "painting",
    preview)`` on the binary preview frame (bot/generators/comfyui/client.py lines 251 and 264). Discord's
    throttle (adapters/discord/delivery.py ``_show_status``, lines 127-131) gives the due edit to the
    update without the preview and drops the one with it, keeping nothing of it for the next edit; so no
    ComfyUI preview ever reaches a Discord status message (OpenAI's previews do: they come with their
    progress update). Telegram is not hit: its status message keeps the latest preview for the next edit.
    """
    async with (
        FakeComfyUI(step_delay=0.6) as comfy,
        FakeDiscord() as api,
        discord_bot(tmp_path, api, comfy) as bot,
    ):
        bot.adapter.delivery.edit_interval = EDIT_INTERVAL
        interaction = await bot.figure(name="Eileen", theme="astronaut")
        await bot.result(interaction)
        await bot.idle()
        assert comfy.previews_sent == 4  # one per sampler step, all sent to the bot
        progress = [
            edit for edit in status_edits(api, interaction) if "%" in (edit.json or {}).get("content", "")
        ]
        assert len(progress) >= 2, [edit.json for edit in progress]  # "starting", then a step's progress
        with_preview = [edit for edit in progress if edit.files]
        assert with_preview, "no status edit carried a preview of the painting"
        assert with_preview[0].files[0].filename == "preview.jpg"


async def test_discord_server_keeping_photos_on_own_machines_still_gets_on_premises_comfyui(
    tmp_path: Path,
) -> None:
    async with (
        FakeComfyUI(step_delay=STEP) as comfy,
        FakeDiscord() as api,
        discord_bot(tmp_path, api, comfy, comfyui_on_premises=True) as bot,
    ):
        changes = {"local_only": True, "permissions": ALL_PERMISSIONS}
        saved = await private_answer(bot, api.slash("figure-settings", ALICE, **changes))
        assert "• photos stay on this bot's own machines (painted by comfyui, local only): yes" in saved
        assert (await bot.engine.chat_settings(bot.requester(ALICE))).local_only

        result = await bot.result(await bot.figure(name="Eileen"))
        assert ("Made with", "comfyui") in {
            (item["name"], item["value"]) for item in result["embeds"][0]["fields"]
        }
        assert len(comfy.prompts) == 1 and len(comfy.uploads) == 1
        job = await bot.job_of(ALICE)
        assert (job.generator, job.painter) == ("comfyui", "comfyui")
        await bot.idle()


async def test_discord_server_keeping_photos_on_own_machines_gets_local_figures_from_hosted_comfyui(
    tmp_path: Path,
) -> None:
    async with (
        FakeComfyUI(step_delay=STEP) as comfy,
        FakeDiscord() as api,
        discord_bot(tmp_path, api, comfy, comfyui_on_premises=False) as bot,
    ):
        changes = {"local_only": True, "permissions": ALL_PERMISSIONS}
        saved = await private_answer(bot, api.slash("figure-settings", ALICE, **changes))
        assert "• photos stay on this bot's own machines (painted by local only): yes" in saved

        result = await bot.result(await bot.figure(name="Eileen"))
        embed = result["embeds"][0]
        assert ("Made with", "local") in {(item["name"], item["value"]) for item in embed["fields"]}
        (sent,) = api.files[int(result["id"])]
        with Image.open(io.BytesIO(sent.data)) as boxed:
            assert boxed.size == FIGURE_SIZE
        job = await bot.job_of(ALICE)
        assert job.painter == "local"
        await bot.idle()
        # The hosted server never saw the photo, nor was it asked anything that would carry it.
        assert comfy.uploads == [] and comfy.prompts == []
