"""The Gemini generator: the photo's likeness painted by Google's Gemini image model ("nano banana").

In ``exact`` box mode the model paints the toy on a plain backdrop (Gemini paints no transparency), which is
keyed out here before figurebot's own box is built around it, so the name is always spelled right; in
``ai`` mode the model paints the whole box, and in ``figurine`` mode the trend's figurine on a desk with its
box beside it. The SDK's own retries are off: the engine retries what is worth retrying, honouring the
wait an answer names.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from typing import Any

import aiohttp
from google import genai
from google.genai import errors, types
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
from bot.generators.openai import check_words, words_checker
from bot.generators.prompts import figure_prompt
from bot.intake import Photo
from bot.logs import log_event
from bot.spec import FigureSpec

log = logging.getLogger("figurebot.gemini")

ASPECT_RATIO = "2:3"  # the figure's portrait page
SAFETY = [
    types.SafetySetting(category=category, threshold=types.HarmBlockThreshold.BLOCK_MEDIUM_AND_ABOVE)
    for category in (
        types.HarmCategory.HARM_CATEGORY_HARASSMENT,
        types.HarmCategory.HARM_CATEGORY_HATE_SPEECH,
        types.HarmCategory.HARM_CATEGORY_SEXUALLY_EXPLICIT,
        types.HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT,
    )
]
BLOCKS = {  # finish reasons that mean Google's filters stopped the picture
    "SAFETY",
    "IMAGE_SAFETY",
    "PROHIBITED_CONTENT",
    "IMAGE_PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "RECITATION",
    "IMAGE_RECITATION",
}
INPUT_TOKENS = {"text": 400, "image": 1290}  # a prompt and one photo, for the estimate before a call
OUTPUT_TOKENS = 1290  # one picture up to about a megapixel
MAX_RETRY_AFTER = 3600.0
DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


class GeminiGenerator:
    """Paints figures with a Gemini image model through ``google-genai``'s async client."""

    name = "gemini"
    sends_photo_off_machine = True
    daily_quota_per_user = 20
    daily_quota_per_chat = 200

    def __init__(self, settings: Settings, boxer: LocalGenerator) -> None:
        if settings.gemini_api_key is None:
            raise ValueError("the gemini generator needs GEMINI_API_KEY")
        self.settings = settings
        self.boxer = boxer  # builds the box in exact mode, and paints instead when falling back
        self.concurrency: int | None = settings.gemini_concurrency
        options = types.HttpOptions(
            base_url=settings.gemini_base_url or None,
            api_version="v1beta",  # where Google documents image output
            timeout=round(settings.gemini_timeout * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),  # also stops the SDK's own reconnect loop
        )
        self.client = genai.Client(api_key=settings.gemini_api_key.get_secret_value(), http_options=options)
        self._words = words_checker(settings)
        self.cost_estimate_usd = self._cost(INPUT_TOKENS["text"], INPUT_TOKENS["image"], OUTPUT_TOKENS)

    def _cost(self, text_in: int, image_in: int, image_out: int) -> float:
        s = self.settings
        return (
            text_in * s.gemini_price_text_input
            + image_in * s.gemini_price_image_input
            + image_out * s.gemini_price_image_output
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
            self._paint(photo, spec, on_progress), self.name, job, fallback
        )

    async def _paint(self, photo: Photo, spec: FigureSpec, on_progress: ProgressCallback | None) -> Painted:
        if self._words is not None:  # the user's words, checked before anything is paid for
            await check_words(self._words, spec)
        mode = self.settings.gemini_box_mode
        jpeg = await asyncio.to_thread(photo.encode, "JPEG")
        contents: list[Any] = [
            types.Part.from_bytes(data=jpeg, mime_type="image/jpeg"),
            figure_prompt(spec, mode, backdrop="plain"),
        ]
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=ASPECT_RATIO),
            safety_settings=SAFETY,
        )
        if on_progress:
            await on_progress(Progress(0.1, "painting"))
        model = self.settings.gemini_image_model
        try:
            answer = await self.client.aio.models.generate_content(
                model=model, contents=contents, config=config
            )
        except errors.APIError as error:
            raise classify(error, model) from None
        except (aiohttp.ClientError, OSError):
            raise Transient("Gemini could not be reached.") from None
        except TimeoutError:
            raise Transient("Gemini took too long to answer.") from None
        cost = self._usage_cost(answer.usage_metadata)
        try:
            image = await asyncio.to_thread(picture_of, answer)
        except GeneratorError as error:
            error.cost_usd = cost  # Google bills the answer even when it holds no usable picture
            raise
        log_event(log, "gemini.painted", model=model, cost_usd=round(cost, 4))
        if mode == "exact":
            image = await asyncio.to_thread(box_painted, self.boxer, image, spec)
        else:
            image = image.convert("RGB").resize(self.boxer.size, Image.Resampling.LANCZOS)
        if on_progress:
            await on_progress(Progress(1.0, "boxed"))
        return Painted(image, cost)

    def _usage_cost(self, usage: types.GenerateContentResponseUsageMetadata | None) -> float:
        """The answer's cost from its usage figures; the estimate when it has none (a compatible proxy)."""
        if usage is None or usage.prompt_token_count is None:
            return self.cost_estimate_usd
        by_modality = {"TEXT": 0, "IMAGE": 0}
        for count in usage.prompt_tokens_details or []:
            modality = str(getattr(count.modality, "value", count.modality))
            by_modality[modality] = by_modality.get(modality, 0) + (count.token_count or 0)
        if not any(by_modality.values()):
            by_modality["TEXT"] = usage.prompt_token_count
        return self._cost(by_modality["TEXT"], by_modality["IMAGE"], usage.candidates_token_count or 0)


def picture_of(answer: types.GenerateContentResponse) -> Image.Image:
    """The picture in Gemini's answer; a block or an answer in words only is refused with its reason."""
    feedback = answer.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        reason = _words_of(feedback.block_reason)
        raise Refused(
            f"Google's safety system refused this request ({reason}). Please change the words or photo."
        )
    candidate = answer.candidates[0] if answer.candidates else None
    if candidate is None:
        raise Transient("Gemini answered without a picture.")
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    parts = [part for part in parts if not part.thought]  # a thinking model's drafts are not the answer
    for part in parts:
        blob = part.inline_data
        if blob is not None and blob.data and (blob.mime_type or "").startswith("image/"):
            return read_picture(blob.data, "Gemini")
    reason = _words_of(candidate.finish_reason) if candidate.finish_reason else ""
    if reason.upper().replace(" ", "_") in BLOCKS:
        raise Refused(f"Google's safety system refused to paint this figure ({reason}).")
    said = " ".join(part.text.strip() for part in parts if part.text).strip()
    if said:
        raise Refused(f"Gemini did not paint the figure; it said: “{said[:200]}”")
    raise Transient(f"Gemini answered without a picture ({reason or 'no reason given'}).")


def _words_of(reason: Any) -> str:
    """``IMAGE_SAFETY`` for an SDK enum or a plain string."""
    return str(getattr(reason, "value", reason))


def retry_after(error: errors.APIError) -> float | None:
    """Seconds to wait from the answer's ``Retry-After`` header or its ``RetryInfo.retryDelay`` detail
    (capped at an hour); ``None`` when it names none."""
    headers = getattr(error.response, "headers", None) or {}
    candidates = [headers.get("retry-after") or headers.get("Retry-After")]
    body = error.details.get("error", {}) if isinstance(error.details, dict) else {}
    for detail in body.get("details", []) if isinstance(body, dict) else []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            found = DELAY.match(str(detail.get("retryDelay", "")))
            candidates.append(found.group(1) if found else None)
    for value in candidates:
        try:
            seconds = float(value) if value is not None else math.nan
        except ValueError:
            continue
        if math.isfinite(seconds):
            return min(max(seconds, 0.0), MAX_RETRY_AFTER)
    return None


def classify(error: errors.APIError, model: str) -> GeneratorError:
    """The engine's typed error for an SDK error: retried, bad input or the operator's to fix."""
    status, code = str(error.status or ""), error.code or 0
    message = str(error.message or "")[:200]
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        return Transient("Gemini is rate limiting us.", retry_after=retry_after(error))
    if code == 404 or status == "NOT_FOUND":
        return Misconfigured(f"Gemini has no image model {model!r} for this key: check GEMINI_IMAGE_MODEL.")
    if (
        code in (401, 403)
        or status in ("PERMISSION_DENIED", "UNAUTHENTICATED")
        or "API_KEY" in str(error.details)
    ):
        return Misconfigured(f"Google refused the key ({code} {status}): check GEMINI_API_KEY. {message}")
    if code >= 500 or code == 408:
        return Transient(f"Gemini had a problem ({code} {status}).")
    if code == 400 and status == "INVALID_ARGUMENT" and "image" in message.lower():
        return BadInput("Gemini could not use this photo. Try another one, as a JPEG or PNG.")
    return Misconfigured(f"Gemini rejected the request ({code} {status}): {message}")
