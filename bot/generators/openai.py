"""The OpenAI generator: the photo's likeness painted as a real toy by OpenAI's image API.

In ``exact`` box mode the model paints the figure alone on a transparent background and the local box art
builds the packaging, so the name is always spelled right; in ``ai`` mode the model paints the whole box.
The SDK's own retries are off: the engine retries what is worth retrying, honouring ``retry-after``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import math
import re
from typing import Any

import openai
from PIL import Image

from bot.config import Settings
from bot.generators.base import (
    BadInput,
    GeneratorError,
    Misconfigured,
    Painted,
    Progress,
    ProgressCallback,
    Refused,
    Transient,
    read_picture,
)
from bot.generators.boxing import box_painted
from bot.generators.local import LocalGenerator
from bot.generators.prompts import figure_prompt, moderation_texts
from bot.intake import Photo
from bot.logs import log_event
from bot.spec import FigureSpec

log = logging.getLogger("figurebot.openai")

MODERATION_MODEL = "omni-moderation-latest"
# Models that take ``input_fidelity``; the GPT Image 2 family matches faces without it.
HIGH_FIDELITY_MODELS = re.compile(r"gpt-image-1(\.5)?(-\d{4}-\d{2}-\d{2})?")
BILLING_CODES = {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active"}
IMAGE_CODES = {"invalid_image", "invalid_image_format", "image_too_large", "unsupported_file_mimetype"}
# Output tokens of a 1024x1536 image per quality, scaled by area for other sizes ("auto" costs as "high").
OUTPUT_TOKENS = {"low": 400, "medium": 1584, "high": 6240, "auto": 6240}
PORTRAIT_AREA = 1024 * 1536
INPUT_TOKENS = {"text": 700, "image": 1600}  # a prompt and one photo, for the estimate before a call
PREVIEW_SIDE = 512
MAX_RETRY_AFTER = 3600.0
SAFETY_VIOLATIONS = re.compile(r"safety_violations=\[([^\]]*)\]")


class OpenAIGenerator:
    """Paints figures with an edit-capable GPT Image model through ``AsyncOpenAI``."""

    name = "openai"
    sends_photo_off_machine = True
    daily_quota_per_user = 20
    daily_quota_per_chat = 200

    def __init__(self, settings: Settings, boxer: LocalGenerator) -> None:
        if settings.openai_api_key is None:
            raise ValueError("the openai generator needs OPENAI_API_KEY")
        self.settings = settings
        self.boxer = boxer  # builds the box in exact mode, and paints instead when falling back
        self.concurrency: int | None = settings.openai_concurrency
        self.client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            max_retries=0,
            timeout=settings.openai_timeout,
        )
        self.cost_estimate_usd = self._cost(
            INPUT_TOKENS["text"], INPUT_TOKENS["image"], self._output_tokens()
        )

    def _output_tokens(self) -> int:
        size = self.settings.openai_image_size
        width, height = (1024, 1536) if size == "auto" else map(int, size.split("x"))
        return round(OUTPUT_TOKENS[self.settings.openai_image_quality] * width * height / PORTRAIT_AREA)

    def _cost(self, text_in: int, image_in: int, image_out: int) -> float:
        s = self.settings
        return (
            text_in * s.openai_price_text_input
            + image_in * s.openai_price_image_input
            + image_out * s.openai_price_image_output
        ) / 1e6

    async def generate(
        self,
        photo: Photo,
        spec: FigureSpec,
        on_progress: ProgressCallback | None = None,
        requester: str = "",
    ) -> Painted:
        job = (photo, spec, on_progress)
        fallback = self.settings.fallback_to_local
        return await self.boxer.unless_unusable(
            self._paint(photo, spec, on_progress, requester), self.name, job, fallback
        )

    async def _paint(
        self, photo: Photo, spec: FigureSpec, on_progress: ProgressCallback | None, requester: str
    ) -> Painted:
        if self.settings.openai_moderation:
            await check_words(self.client, spec)
        exact = self.settings.openai_box_mode == "exact"
        request: dict[str, Any] = {
            "model": self.settings.openai_image_model,
            "image": ("photo.jpg", await asyncio.to_thread(photo.encode, "JPEG"), "image/jpeg"),
            "prompt": figure_prompt(spec, self.settings.openai_box_mode),
            "size": self.settings.openai_image_size,
            "quality": self.settings.openai_image_quality,
            "output_format": "png",
            "background": "transparent" if exact else "opaque",
            "n": 1,
        }
        if requester:
            request["safety_identifier"] = requester
        if HIGH_FIDELITY_MODELS.fullmatch(self.settings.openai_image_model):
            request["input_fidelity"] = "high"
        encoded, usage = await self._edit(request, on_progress)
        # Without usage figures (a compatible server), the estimate stands in so budgets still bind.
        cost = self._cost(*usage) if usage else self.cost_estimate_usd
        try:
            image = await asyncio.to_thread(decode_image, encoded)
        except Transient as error:
            raise _costing(error, cost) from None
        log_event(log, "openai.painted", model=request["model"], cost_usd=round(cost, 4))
        if exact:
            image = await asyncio.to_thread(box_painted, self.boxer, image, spec)
        if on_progress:
            await on_progress(Progress(1.0, "boxed"))
        return Painted(image, cost)

    async def _edit(
        self, request: dict[str, Any], on_progress: ProgressCallback | None
    ) -> tuple[str, tuple[int, int, int] | None]:
        """The final image (base64) and its usage (text in, image in, image out), streaming previews.
        Errors come out typed; those after OpenAI started to answer carry the estimated cost."""
        partials = self.settings.openai_partial_images
        streaming = {"stream": True, "partial_images": partials} if partials else {}
        try:
            answer = await self.client.images.edit(**request, **streaming)
        except openai.APIError as error:
            raise classify(error) from None
        try:  # OpenAI has started painting, and bills for it: a failure from here still costs
            if not partials:
                if not answer.data or not answer.data[0].b64_json:
                    raise Transient("OpenAI answered without an image.")
                return answer.data[0].b64_json, _usage(answer.usage)
            return await self._read_stream(answer, partials, on_progress)
        except openai.APIError as error:
            raise _costing(classify(error), self.cost_estimate_usd) from None
        except Transient as error:
            raise _costing(error, self.cost_estimate_usd) from None

    async def _read_stream(
        self, stream: Any, partials: int, on_progress: ProgressCallback | None
    ) -> tuple[str, tuple[int, int, int] | None]:
        """The completed image of a streamed edit, each partial image passed on as a preview."""
        async with stream:  # closes the connection however the loop ends
            async for event in stream:
                if event.type == "image_edit.partial_image":
                    if on_progress:
                        preview = await asyncio.to_thread(decode_preview, event.b64_json)
                        fraction = 0.9 * (event.partial_image_index + 1) / (partials + 1)
                        await on_progress(Progress(fraction, "painting", preview))
                elif event.type == "image_edit.completed":
                    if not event.b64_json:
                        raise Transient("OpenAI answered without an image.")
                    return event.b64_json, _usage(event.usage)
        raise Transient("OpenAI stopped before the figure was finished.")


def words_checker(settings: Settings) -> openai.AsyncOpenAI | None:
    """A client for OpenAI's free Moderations API, which checks the user's words before another
    generator paints, when ``OPENAI_API_KEY`` is set and ``OPENAI_MODERATION`` is on; else ``None``."""
    if settings.openai_api_key is None or not settings.openai_moderation:
        return None
    return openai.AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        max_retries=0,
        timeout=settings.openai_timeout,
    )


async def check_words(client: openai.AsyncOpenAI, spec: FigureSpec) -> None:
    """Refuse the user's words when OpenAI's (free) moderation flags them, before any painting."""
    texts = moderation_texts(spec)
    if not texts:
        return
    try:
        result = await client.moderations.create(model=MODERATION_MODEL, input=texts)
    except openai.APIError as error:
        raise classify(error) from None
    flagged = [item for item in result.results if item.flagged]
    if flagged:
        categories = {
            name for item in flagged for name, on in item.categories.model_dump(by_alias=True).items() if on
        }
        shown = ", ".join(sorted(categories)) or "content rules"
        raise Refused(f"I can't make that figure: its words were flagged ({shown}). Please change them.")


def _usage(usage: Any) -> tuple[int, int, int] | None:
    if usage is None:
        return None
    details = usage.input_tokens_details
    text_in = details.text_tokens if details else usage.input_tokens
    image_in = details.image_tokens if details else 0
    return text_in, image_in, usage.output_tokens


def decode_image(encoded: str) -> Image.Image:
    """A returned image from base64; a broken one is a passing failure (tried again)."""
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise Transient("OpenAI sent an image that could not be read.") from None
    return read_picture(data, "OpenAI")


def decode_preview(encoded: str) -> Image.Image | None:
    """A small preview from a streamed partial image; ``None`` when it cannot be read."""
    try:
        image = decode_image(encoded)
    except Transient:
        return None
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return image


def _costing(error: GeneratorError, cost_usd: float) -> GeneratorError:
    """``error`` noting what the failed attempt still cost."""
    error.cost_usd = cost_usd
    return error


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (capped at an hour); ``None`` if absent."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        if name in headers:
            try:
                seconds = float(headers[name]) * scale
            except ValueError:
                continue
            if math.isfinite(seconds):
                return min(max(seconds, 0.0), MAX_RETRY_AFTER)
    return None


def classify(error: openai.APIError) -> GeneratorError:
    """The engine's typed error for an SDK error: retried, refused, bad input or the operator's to fix."""
    if isinstance(error, openai.APITimeoutError):
        return Transient("OpenAI took too long to answer.")
    if isinstance(error, openai.APIConnectionError):
        return Transient("OpenAI could not be reached.")
    # Codes first: an error event in the middle of a stream carries them without an HTTP status.
    code = error.code or ""
    body = error.body if isinstance(error.body, dict) else {}
    kind = str(body.get("type") or getattr(error, "type", "") or "")
    if code == "moderation_blocked":
        found = SAFETY_VIOLATIONS.search(str(error.message))
        shown = found.group(1) if found and found.group(1) else "content rules"
        return Refused(f"OpenAI's safety system refused to paint this figure ({shown}).")
    if code in BILLING_CODES or kind in BILLING_CODES:
        return Misconfigured(f"OpenAI billing: {code or kind}. Add credit or raise the limit, then retry.")
    if not isinstance(error, openai.APIStatusError):
        return Transient("OpenAI's answer could not be read.")
    status = error.status_code
    if status == 429:
        return Transient("OpenAI is rate limiting us.", retry_after=retry_after(error.response.headers))
    if status in (401, 403):
        return Misconfigured(f"OpenAI refused the key ({status} {code or 'no code'}): check OPENAI_API_KEY.")
    if status == 400 and (code in IMAGE_CODES or getattr(error, "param", None) == "image"):
        return BadInput("OpenAI could not use this photo. Try another one, as a JPEG or PNG.")
    if status >= 500 or status == 408:
        return Transient(f"OpenAI had a problem ({status}).")
    return Misconfigured(f"OpenAI rejected the request ({status} {code or 'no code'}): {error.message[:200]}")
