"""The fake Gemini API, driven with the real ``google-genai`` SDK as the ``gemini`` generator drives it."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from tests.fakes.gemini_api import RETRY_INFO, FakeGemini, image_tokens, text_tokens
from tests.fakes.painting import BACKGROUND

KEY = "gm-test-key"
MODEL = "gemini-2.5-flash-image"
PROMPT = "Turn the person in the attached photo into a collectible action figure."
# google-genai subclasses aiohttp's ClientSession for every client session, which aiohttp frowns on.
pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")


def photo_bytes() -> bytes:
    image = Image.new("RGB", (900, 1200), (30, 120, 200))
    image.paste((250, 40, 40), (350, 500, 550, 700))  # a red centre: it becomes the head
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


@asynccontextmanager
async def client_for(api: FakeGemini, key: str = KEY, **options: Any) -> AsyncIterator[genai.Client]:
    """A real SDK client on the fake; no retries unless ``retry_options`` says otherwise."""
    options.setdefault("retry_options", types.HttpRetryOptions(attempts=1))
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=api.base_url, **options))
    try:
        yield client
    finally:
        await client.aio.aclose()


async def generate(
    client: genai.Client,
    *,
    model: str = MODEL,
    prompt: str = PROMPT,
    aspect_ratio: str = "2:3",
    **config: Any,
) -> types.GenerateContentResponse:
    return await client.aio.models.generate_content(
        model=model,
        contents=[types.Part.from_bytes(data=photo_bytes(), mime_type="image/jpeg"), prompt],
        config=types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=aspect_ratio, **config.pop("image", {})),
            **config,
        ),
    )


def picture_of(part: types.Part) -> Image.Image:
    assert part.inline_data is not None and part.inline_data.data is not None
    return Image.open(io.BytesIO(part.inline_data.data))


async def test_an_edit_comes_back_as_a_png_of_the_asked_shape_with_its_usage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GOOGLE_GENAI_API_VERSION", raising=False)
    async with FakeGemini(api_key=KEY) as api, client_for(api) as client:
        safety = [types.SafetySetting(category="HARM_CATEGORY_HARASSMENT", threshold="BLOCK_ONLY_HIGH")]
        response = await generate(client, safety_settings=safety)

        assert response.parts is not None and len(response.parts) == 1
        [part] = response.parts
        assert part.inline_data is not None and part.inline_data.mime_type == "image/png"
        picture = picture_of(part)
        assert picture.format == "PNG" and picture.size == (832, 1248)
        assert picture.getpixel((2, 2)) == BACKGROUND  # the toy alone, on a plain backdrop
        red, green, _ = picture.getpixel((346, 209))  # the middle of the head: the photo's red centre
        assert red > 200 and green < 80
        [candidate] = response.candidates or []
        assert candidate.finish_reason == types.FinishReason.STOP and part.thought_signature is None

        usage = response.usage_metadata
        assert usage is not None
        photo_tokens = image_tokens((900, 1200))
        assert photo_tokens == 2 * 2 * 258
        assert usage.prompt_token_count == text_tokens(PROMPT) + photo_tokens
        assert usage.candidates_token_count == 1290
        assert usage.total_token_count == usage.prompt_token_count + 1290
        details = {(d.modality, d.token_count) for d in usage.prompt_tokens_details or []}
        assert details == {(types.MediaModality.TEXT, text_tokens(PROMPT)), (types.MediaModality.IMAGE, 1032)}
        assert [(d.modality, d.token_count) for d in usage.candidates_tokens_details or []] == [
            (types.MediaModality.IMAGE, 1290)
        ]
        assert response.model_version == MODEL and response.response_id

        [request] = api.requests
        assert (request.model, request.api_version) == (MODEL, "v1")  # the SDK's default version
        assert request.api_key == KEY == request.headers["x-goog-api-key"]
        assert request.image == photo_bytes() and request.image_mime_type == "image/jpeg"
        assert request.prompt == PROMPT and request.picture is not None
        assert (request.aspect_ratio, request.response_modalities) == ("2:3", ["IMAGE"])
        assert request.safety_settings == [
            {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}
        ]
        assert request.headers["x-goog-api-client"].startswith("google-genai-sdk/")
        assert api.attempts == 1


async def test_the_box_or_a_figurine_is_full_bleed_and_gemini_3_sizes_and_signs_its_pictures() -> None:
    async with FakeGemini() as api, client_for(api, api_version="v1beta") as client:
        box = await generate(client, prompt="Package the figure in a window box.", aspect_ratio="1:1")
        assert box.parts is not None
        assert picture_of(box.parts[0]).getpixel((2, 2)) != BACKGROUND

        thinking = types.ThinkingConfig(include_thoughts=True)
        scene = await generate(
            client,
            model="gemini-3-pro-image-preview",
            prompt="Make it a 1/7 scale collectible figurine on a computer desk.",
            aspect_ratio="3:4",
            image={"image_size": "2K"},
            thinking_config=thinking,
        )
        assert scene.parts is not None
        *thoughts, final = scene.parts
        assert [bool(part.thought) for part in thoughts] == [True, True]  # a thought, then a draft
        assert thoughts[0].text and thoughts[1].inline_data is not None
        assert not final.thought and final.thought_signature  # the picture to keep
        picture = picture_of(final)
        assert picture.size == (1792, 2400) and picture.getpixel((2, 2)) != BACKGROUND
        usage = scene.usage_metadata
        assert usage is not None and usage.candidates_token_count == 1120
        assert usage.thoughts_token_count and usage.total_token_count == (
            (usage.prompt_token_count or 0) + 1120 + usage.thoughts_token_count
        )
        assert [r.api_version for r in api.requests] == ["v1beta", "v1beta"]


async def test_a_rate_limit_raises_a_client_error_that_says_when_to_retry() -> None:
    async with FakeGemini() as api, client_for(api) as client:
        api.fail_next(429, "RESOURCE_EXHAUSTED", headers={"Retry-After": "7"})
        with pytest.raises(errors.ClientError) as caught:
            await generate(client)
        error = caught.value
        assert (error.code, error.status) == (429, "RESOURCE_EXHAUSTED")
        assert error.message and error.message.startswith("You exceeded your current quota")
        details = error.details["error"]["details"]
        assert [d["retryDelay"] for d in details if d["@type"] == RETRY_INFO] == ["7s"]
        assert error.response.headers["Retry-After"] == "7"

        api.fail_next(429, "RESOURCE_EXHAUSTED", details=[])
        with pytest.raises(errors.ClientError) as caught:
            await generate(client)
        assert "details" not in caught.value.details["error"]

        assert (await generate(client)).parts
        assert api.attempts == 3 and len(api.requests) == 1  # only answered requests are recorded


async def test_the_sdk_retries_what_its_retry_options_name() -> None:
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.01, jitter=0)
    async with FakeGemini() as api, client_for(api, retry_options=retry) as client:
        api.fail_next(503, "UNAVAILABLE", times=2)
        response = await generate(client)
        assert response.parts and api.attempts == 3

        api.fail_next(500, "INTERNAL", times=3)
        with pytest.raises(errors.ServerError) as caught:
            await generate(client)
        assert (caught.value.code, caught.value.status) == (500, "INTERNAL") and api.attempts == 6


async def test_blocks_and_words_come_back_without_a_picture() -> None:
    async with FakeGemini() as api, client_for(api) as client:
        api.block_next("IMAGE_SAFETY")
        blocked = await generate(client)
        [candidate] = blocked.candidates or []
        assert candidate.finish_reason == types.FinishReason.IMAGE_SAFETY
        assert candidate.content is None and blocked.parts is None

        api.block_prompt_next("PROHIBITED_CONTENT")
        refused = await generate(client)
        assert refused.candidates is None and refused.parts is None
        assert refused.prompt_feedback is not None
        assert refused.prompt_feedback.block_reason == types.BlockedReason.PROHIBITED_CONTENT

        api.text_only_next("I can't make a figure of this person.")
        words = await generate(client)
        assert words.text == "I can't make a figure of this person."
        assert words.parts is not None and all(part.inline_data is None for part in words.parts)
        assert words.candidates and words.candidates[0].finish_reason == types.FinishReason.STOP

        assert [r.picture is None for r in api.requests] == [True, True, True]


async def test_a_wrong_key_a_missing_model_and_a_refusal_are_google_errors() -> None:
    async with FakeGemini(api_key=KEY) as api:
        async with client_for(api, key="not-the-key") as client:
            with pytest.raises(errors.ClientError) as caught:
                await generate(client)
        assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
        [info] = [d for d in caught.value.details["error"]["details"] if d.get("reason")]
        assert info["reason"] == "API_KEY_INVALID" and api.last_api_key == "not-the-key"

        async with client_for(api) as client:
            with pytest.raises(errors.ClientError) as caught:
                await generate(client, model="gemini-9-imagine")
            assert (caught.value.code, caught.value.status) == (404, "NOT_FOUND")
            assert caught.value.message and caught.value.message.startswith(
                "models/gemini-9-imagine is not found for API version v1,"
            )

            api.fail_next(403, "PERMISSION_DENIED")
            with pytest.raises(errors.ClientError) as caught:
                await generate(client)
            assert caught.value.code == 403 and caught.value.message == "The caller does not have permission"

            with pytest.raises(errors.ClientError) as caught:
                await generate(client, aspect_ratio="7:5")
            assert caught.value.status == "INVALID_ARGUMENT"
        assert api.attempts == 4 and api.requests == []


async def test_a_hung_request_times_out_in_the_client_and_a_dropped_one_fails_fast() -> None:
    async with FakeGemini() as api, client_for(api, timeout=300) as client:
        api.hang_next(30)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await generate(client)
        assert time.monotonic() - started < 5

        api.drop_next()
        with pytest.raises(aiohttp.ServerDisconnectedError):  # the SDK's transport, not an APIError
            await generate(client)
        assert api.attempts == 2 and api.requests == []
