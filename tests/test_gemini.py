"""The Gemini generator in the engine, a chat and the terminal: the real ``google-genai`` SDK over HTTP
against a fake Gemini API on 127.0.0.1."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from google.genai import errors
from PIL import Image

from bot.engine import UNAVAILABLE
from bot.generators.gemini import GeminiGenerator, retry_after
from bot.generators.local import LocalGenerator
from bot.intake import IntakeLimits, accept_photo
from bot.jobs import Job, Status
from bot.spec import make_spec
from tests.engine_kit import PERSON, Rig, photo, recorded, rig, settings_for, spec, wait_until
from tests.fakes.gemini_api import FakeGemini, retry_info
from tests.fakes.telegram_api import FakeTelegram
from tests.photo_factory import encode, gps_exif
from tests.test_openai import figurebot
from tests.test_telegram import answer, button, next_figure, running_bot

KEY = "gm-test-very-secret-key"
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def gemini_values(api: FakeGemini, **values: Any) -> dict[str, Any]:
    """Settings that make Gemini at ``api`` the default generator."""
    return {
        "gemini_api_key": KEY,
        "gemini_base_url": api.base_url,
        "figurebot_generator": "gemini",
        "max_active_jobs_per_user": 0,
        **values,
    }


@asynccontextmanager
async def gemini_rig(tmp_path: Path, **values: Any) -> AsyncIterator[tuple[Rig, FakeGemini]]:
    """An engine whose default generator is Gemini's, at a fake API; the user has accepted its notice."""
    async with FakeGemini(api_key=KEY) as api:
        options = gemini_values(api, **values)
        settings = settings_for(tmp_path, **options)
        size = (settings.figure_width, settings.figure_height)
        local = LocalGenerator(size)
        generator = GeminiGenerator(settings, LocalGenerator(size))
        async with rig(tmp_path, generator, others=(local,), **options) as r:  # type: ignore[arg-type]
            await r.engine.accept_privacy(r.requester())
            yield r, api


async def finished(r: Rig, job_id: str) -> Job:
    return await wait_until(r.store, job_id, lambda job: job.delivered_at is not None)


def gps_tagged_photo() -> bytes:
    with Image.open(PERSON) as image:
        return encode(image.convert("RGB"), "JPEG", exif=gps_exif(), quality=90)


async def test_a_figure_is_painted_by_gemini_and_boxed_here(tmp_path: Path) -> None:
    async with gemini_rig(tmp_path) as (r, api):
        events = recorded(r)
        cleaned = accept_photo(gps_tagged_photo(), IntakeLimits.from_settings(r.settings))
        submitted = await r.engine.submit(r.requester(), cleaned, make_spec(name="Zoë", theme="pirate"))
        done = await finished(r, submitted.job_id)
        assert done.status is Status.DONE and done.painter == "gemini"
        sent = api.requests[0]
        assert sent.model == "gemini-2.5-flash-image" and sent.api_version == "v1beta"
        assert sent.api_key == KEY and sent.image_mime_type == "image/jpeg"
        with Image.open(io.BytesIO(sent.image)) as upload:
            assert not upload.getexif() and "exif" not in upload.info
        assert (
            '"Zoë"' not in sent.prompt
            and "plain, seamless" in sent.prompt
            and "pirate" in sent.prompt.lower()
        )
        assert sent.response_modalities == ["IMAGE"] and sent.aspect_ratio == "2:3"
        assert {item["threshold"] for item in sent.safety_settings} == {"BLOCK_MEDIUM_AND_ABOVE"}
        assert len(sent.safety_settings) == 4
        assert not {"labels", "user", "userId"} & set(sent.body)  # no user id goes to Google
        assert done.cost_usd is not None and 0.03 < done.cost_usd < 0.05  # 1290 picture tokens at $30/M
        figure = next(event.figure for event in events if event.figure)
        with Image.open(io.BytesIO(figure)) as boxed:
            picture = boxed.convert("RGB")
        own_box = LocalGenerator().render(photo(), make_spec(name="Zoë", theme="pirate")).convert("RGB")
        for corner in ((2, 2), (1021, 2), (2, 1533)):  # figurebot's own box around the painted toy
            assert picture.getpixel(corner) == own_box.getpixel(corner)


@pytest.mark.parametrize("mode", ["ai", "figurine"])
async def test_the_model_paints_the_whole_picture_in_ai_and_figurine_modes(tmp_path: Path, mode: str) -> None:
    async with gemini_rig(tmp_path, gemini_box_mode=mode) as (r, api):
        api.result_image = Image.new("RGB", (832, 1248), (10, 200, 30))
        events = recorded(r)
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        await finished(r, submitted.job_id)
        prompt = api.requests[0].prompt
        assert '"Alex"' in prompt and ("figurine" in prompt) is (mode == "figurine")
        figure = next(event.figure for event in events if event.figure)
        with Image.open(io.BytesIO(figure)) as whole:
            assert whole.size == (1024, 1536) and whole.convert("RGB").getpixel((500, 700)) == (10, 200, 30)


@pytest.mark.parametrize(
    ("script", "said"),
    [
        (
            ("block_next", "IMAGE_SAFETY"),
            "Google's safety system refused to paint this figure (IMAGE_SAFETY).",
        ),
        (("block_prompt_next", "PROHIBITED_CONTENT"), "refused this request (PROHIBITED_CONTENT)"),
        (("text_only_next", "I can't make pictures of that."), "it said: “I can't make pictures of that.”"),
    ],
)
async def test_blocks_and_answers_in_words_are_refused_at_once(
    tmp_path: Path, script: tuple[str, str], said: str
) -> None:
    async with gemini_rig(tmp_path) as (r, api):
        getattr(api, script[0])(script[1])
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        failed = await finished(r, submitted.job_id)
        assert failed.status is Status.FAILED and said in (failed.error or "")
        assert api.attempts == 1 and failed.attempts == 1


async def test_a_rate_limit_is_retried_after_the_wait_it_names(tmp_path: Path) -> None:
    async with gemini_rig(tmp_path, retry_base_delay=0.01) as (r, api):
        api.fail_next(429, "RESOURCE_EXHAUSTED", details=[retry_info("1s")])
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        done = await finished(r, submitted.job_id)
        assert done.status is Status.DONE and done.attempts == 2 and api.attempts == 2


@pytest.mark.parametrize(
    ("code", "status", "logged"),
    [
        (403, "PERMISSION_DENIED", "check GEMINI_API_KEY"),
        (400, "FAILED_PRECONDITION", "Gemini rejected the request (400 FAILED_PRECONDITION)"),
    ],
)
async def test_key_and_account_problems_are_the_operator_s_and_never_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, code: int, status: str, logged: str
) -> None:
    async with gemini_rig(tmp_path) as (r, api):
        api.fail_next(code, status)
        with caplog.at_level(logging.ERROR, logger="figurebot"):
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            failed = await finished(r, submitted.job_id)
        assert failed.error == UNAVAILABLE and api.attempts == 1
        assert logged in caplog.text and KEY not in caplog.text


async def test_an_unknown_model_names_itself_and_fallback_paints_here(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with gemini_rig(tmp_path, gemini_image_model="gemini-9-imaginary") as (r, _api):
        with caplog.at_level(logging.ERROR, logger="figurebot"):
            submitted = await r.engine.submit(r.requester(), photo(), spec())
            failed = await finished(r, submitted.job_id)
        assert failed.error == UNAVAILABLE
        assert "no image model 'gemini-9-imaginary'" in caplog.text and "GEMINI_IMAGE_MODEL" in caplog.text
    values = {"gemini_image_model": "gemini-9-imaginary", "fallback_to_local": True}
    async with gemini_rig(tmp_path / "fallback", **values) as (r, _api):
        submitted = await r.engine.submit(r.requester(), photo(), spec())
        done = await finished(r, submitted.job_id)
        assert done.status is Status.DONE and done.painter == "local"


async def test_consent_is_asked_per_recipient_in_a_chat(tmp_path: Path) -> None:
    async with FakeGemini(api_key=KEY) as gemini, FakeTelegram() as api:
        values = gemini_values(gemini)
        del values["max_active_jobs_per_user"]  # the chat rig sets it
        settings = settings_for(tmp_path, **values)
        generator = GeminiGenerator(settings, LocalGenerator((settings.figure_width, settings.figure_height)))
        async with running_bot(tmp_path, api, generator, **values) as bot:  # type: ignore[arg-type]
            ann = api.user(1001, "Ann")
            await bot.store.privacy.accept_consent("telegram", "1001", "openai", 2, 0.0)
            api.send_photo(ann, gps_tagged_photo(), caption="Ann | astronaut")
            notice = await api.wait_for(
                lambda c: c.method == "sendMessage" and c.params["text"].startswith("Privacy notice")
            )
            text = notice.params["text"]
            assert "sent to Google's Gemini API" in text and "SynthID" in text and not gemini.attempts
            accept = api.press(ann, notice.result, button(notice, "Accept"))
            await answer(api, accept)
            figure = await next_figure(api, 1001)
            assert figure.params["caption"] == "Ann (Astronaut)" and gemini.attempts == 1
            assert await bot.store.privacy.consent_version("telegram", "1001", "gemini") == 2


async def test_render_with_gemini_shows_progress_and_its_cost(tmp_path: Path) -> None:
    async with FakeGemini(api_key=KEY) as api:
        out = tmp_path / "eileen.png"
        args = ("render", str(PERSON), "--generator", "gemini", "--name", "Eileen", "-o", str(out))
        code, printed, said = await figurebot(
            *args, cwd=tmp_path, GEMINI_API_KEY=KEY, GEMINI_BASE_URL=api.base_url
        )
        assert (code, printed.strip()) == (0, str(out)), said
        assert "Sending the photo to Google's Gemini (gemini-2.5-flash-image)" in said
        assert "[########################] 100% boxed" in said and "Estimated cost: $0.0" in said
        with Image.open(out) as figure:
            assert figure.size == (1024, 1536)


async def test_render_with_gemini_retries_a_rate_limit_and_explains_problems(tmp_path: Path) -> None:
    args = ("render", str(PERSON), "--generator", "gemini", "-o", str(tmp_path / "x.png"))
    code, _, said = await figurebot(*args, cwd=tmp_path, GEMINI_API_KEY="")
    assert (code, said.strip()) == (
        2,
        "figurebot: --generator gemini needs GEMINI_API_KEY (see .env.example).",
    )
    async with FakeGemini(api_key=KEY) as api:
        env = {"GEMINI_API_KEY": KEY, "GEMINI_BASE_URL": api.base_url, "RETRY_BASE_DELAY": "0.01s"}
        api.fail_next(429, "RESOURCE_EXHAUSTED", details=[retry_info("1s")])
        code, _, said = await figurebot(*args, cwd=tmp_path, **env)
        assert code == 0, said
        assert "Gemini is rate limiting us; trying again in 1 s (attempt 2 of 3)" in said
        code, _, said = await figurebot(*args, cwd=tmp_path, **env, GEMINI_IMAGE_MODEL="gemini-9-imaginary")
        assert code == 2 and "no image model 'gemini-9-imaginary'" in said and "trying again" not in said
        code, _, said = await figurebot(*args, cwd=tmp_path, **{**env, "GEMINI_API_KEY": "gm-wrong"})
        assert code == 2 and "check GEMINI_API_KEY" in said and "gm-wrong" not in said


def test_the_wait_is_read_from_the_header_or_the_retry_info() -> None:
    class Answer:
        def __init__(self, headers: dict[str, str]) -> None:
            self.headers = headers

    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [retry_info("12.5s")]}}
    assert retry_after(errors.ClientError(429, body, None)) == 12.5
    assert retry_after(errors.ClientError(429, body, Answer({"Retry-After": "3"}))) == 3.0  # type: ignore[arg-type]
    bare = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}
    assert retry_after(errors.ClientError(429, bare, None)) is None
    huge = {"error": {"code": 429, "details": [retry_info("99999999s")]}}
    assert retry_after(errors.ClientError(429, huge, None)) == 3600.0
