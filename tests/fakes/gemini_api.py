"""A fake Gemini API (API-key auth, not Vertex) on 127.0.0.1 for tests driving the real ``google-genai`` SDK.

It answers ``POST /{v1|v1beta|v1alpha}/models/{model}:generateContent`` as Gemini's image models do,
paints a cheap photo- and seed-dependent picture (``tests.fakes.painting``), records what it receives,
and can be scripted to fail, block, answer in words, hang or drop the connection::

    async with FakeGemini(api_key="gm-test") as api:
        client = genai.Client(
            api_key="gm-test",
            http_options=types.HttpOptions(
                base_url=api.base_url, retry_options=types.HttpRetryOptions(attempts=1)
            ),
        )
        api.fail_next(429, "RESOURCE_EXHAUSTED", headers={"Retry-After": "7"})
        ...
        assert api.attempts == 2 and api.requests[0].image_mime_type == "image/jpeg"

Confirmed in google-genai 3.6.1 (``_api_client.py``, ``models.py``, ``errors.py``): the URL is
``{base_url}/{api_version}/models/{model}:generateContent``, the API version being ``v1`` unless
``HttpOptions.api_version`` or ``GOOGLE_GENAI_API_VERSION`` says otherwise (``beta`` means ``v1beta``);
the key travels in ``x-goog-api-key``; the body is ``{"contents": [{"role": "user", "parts": [{"inlineData":
{"data": BASE64, "mime_type": ...}}, {"text": ...}]}], "generationConfig": {"responseModalities",
"imageConfig": {"aspectRatio", "imageSize"}, "thinkingConfig", "seed", ...}, "safetySettings": [...]}`` (the
SDK writes ``inline_data.mime_type`` and ``thinkingConfig.include_thoughts`` in snake case; Google's JSON
parser takes both spellings, and so does the fake). Errors are
``{"error": {"code", "message", "status", "details"?}}``; the SDK raises ``errors.ClientError`` (4xx) or
``errors.ServerError`` (5xx) with that whole JSON in ``.details`` and the HTTP response in ``.response``.

Also like Gemini: a missing key is 403 ``PERMISSION_DENIED`` ("Method doesn't allow unregistered
callers..."), a wrong one 400 ``INVALID_ARGUMENT`` with an ``ErrorInfo`` ``API_KEY_INVALID``; the key is
checked before the model. Output sizes follow the model's table for ``imageConfig.aspectRatio`` (and, for
Gemini 3 models, ``imageSize`` 1K / 2K / 4K); without an aspect ratio the picture takes the ratio closest
to the input photo's, or 1:1. Gemini 3 models sign their image parts (``thoughtSignature``), report
``thoughtsTokenCount`` and, with ``thinkingConfig.includeThoughts``, send a thought text and a draft image
(``"thought": true``) before the final picture. Asking for ``TEXT`` as well adds a text part before the
image. No ``Retry-After`` header unless ``fail_next`` is given one. Guessed rather than seen: the message
of a bad aspect ratio or image size (Google's generic "Request contains an invalid argument."), and
Gemini 3.1 Flash Image's sizes (taken as Gemini 3 Pro Image's). Not modelled: streaming, ``countTokens``,
files, tools, more than one candidate.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import math
import re
import secrets
import zlib
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image, ImageFilter

from tests.fakes.painting import PACKAGING, open_photo, paint
from tests.fakes.server import MAX_REQUEST_BYTES, LocalServer

API_VERSIONS = frozenset({"v1", "v1beta", "v1alpha"})
DEFAULT_MODELS = frozenset(
    {"gemini-2.5-flash-image", "gemini-3-pro-image-preview", "gemini-3.1-flash-image-preview"}
)
INPUT_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})
MAX_INLINE_BYTES = 20 * 1024 * 1024  # Gemini's limit on a whole request with inline data
FIGURINE = "figurine"

# Output sizes by aspect ratio: Gemini 2.5 Flash Image (1290 tokens each), Gemini 3 image models at 1K
# (1120 tokens at 1K and 2K, 2000 at 4K; 2K and 4K double and quadruple the sides).
FLASH_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
GEMINI3_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "2:3": (848, 1264),
    "3:2": (1264, 848),
    "3:4": (896, 1200),
    "4:3": (1200, 896),
    "4:5": (928, 1152),
    "5:4": (1152, 928),
    "9:16": (768, 1376),
    "16:9": (1376, 768),
    "21:9": (1584, 672),
}
GEMINI3_SCALES = {"1K": 1, "2K": 2, "4K": 4}
FLASH_IMAGE_TOKENS = 1290
GEMINI3_IMAGE_TOKENS = {"1K": 1120, "2K": 1120, "4K": 2000}
GEMINI3_THOUGHT_TOKENS = 236
# The thought summary a Gemini 3 model sends before its draft when asked to include thoughts.
THOUGHT = "**Composing the figure**\nPlacing the toy, then its accessories beside it."
TILE = 768
TILE_TOKENS = 258

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
HELP = "type.googleapis.com/google.rpc.Help"
LOCALIZED_MESSAGE = "type.googleapis.com/google.rpc.LocalizedMessage"

BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
NO_KEY_MESSAGE = (
    "Method doesn't allow unregistered callers (callers without established identity). Please use API "
    "Key or other form of API consumer identity to call this API."
)
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more information "
    "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current "
    "usage, head to: https://ai.dev/rate-limit. "
)
# What Gemini says when ``fail_next`` is given no message.
DEFAULT_MESSAGES: dict[str, str] = {
    "INVALID_ARGUMENT": "Request contains an invalid argument.",
    "FAILED_PRECONDITION": "User location is not supported for the API use.",
    "UNAUTHENTICATED": "Request had invalid authentication credentials.",
    "PERMISSION_DENIED": "The caller does not have permission",
    "NOT_FOUND": "Requested entity was not found.",
    "RESOURCE_EXHAUSTED": QUOTA_MESSAGE,
    "CANCELLED": "The operation was cancelled.",
    "INTERNAL": "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    "UNAVAILABLE": "The model is overloaded. Please try again later.",
    "DEADLINE_EXCEEDED": "Deadline expired before operation could complete.",
}
_HTML_404 = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n"
    "  <p><b>404.</b> <ins>That\u2019s an error.</ins>\n  <p>The requested URL <code>{path}</code> was not "
    "found on this server.  <ins>That\u2019s all we know.</ins>\n"
)


def retry_info(delay: str = "7s") -> dict[str, Any]:
    """A ``google.rpc.RetryInfo`` error detail; ``delay`` is a protobuf Duration such as ``"7s"``."""
    return {"@type": RETRY_INFO, "retryDelay": delay}


def error_info(reason: str, **metadata: str) -> dict[str, Any]:
    """A ``google.rpc.ErrorInfo`` error detail from ``generativelanguage.googleapis.com``."""
    return {
        "@type": ERROR_INFO,
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com", **metadata},
    }


def quota_details(model: str, delay: str = "7s") -> list[dict[str, Any]]:
    """The details of Gemini's 429 for a per-minute request quota: which quota, a link, when to retry."""
    violation = {
        "quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
        "quotaDimensions": {"location": "global", "model": model},
        "quotaValue": "10",
    }
    return [
        {"@type": QUOTA_FAILURE, "violations": [violation]},
        {
            "@type": HELP,
            "links": [
                {
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
        retry_info(delay),
    ]


def image_tokens(size: tuple[int, int]) -> int:
    """Gemini's count for an input image: 258 when both sides are at most 384 px, else 258 per 768 px tile."""
    width, height = size
    if width <= 384 and height <= 384:
        return TILE_TOKENS
    return math.ceil(width / TILE) * math.ceil(height / TILE) * TILE_TOKENS


def text_tokens(text: str) -> int:
    """About four characters a token."""
    return math.ceil(len(text) / 4) if text else 0


@dataclass(frozen=True)
class InlineImage:
    """One ``inlineData`` part of the request, decoded."""

    mime_type: str
    data: bytes


@dataclass
class GenerateRequest:
    """One ``generateContent`` request that was answered (with a picture, words or a block).

    ``prompt`` joins the text parts, ``image`` / ``image_mime_type`` describe the first ``inlineData``
    part, ``images`` all of them; ``body`` is the JSON as sent. Header names are lower case.
    """

    model: str
    api_version: str
    body: dict[str, Any]
    headers: dict[str, str]
    api_key: str | None
    prompt: str
    image: bytes | None
    image_mime_type: str | None
    images: list[InlineImage] = field(default_factory=list)
    picture: Image.Image | None = None
    """The picture sent back, ``None`` when the answer had none."""

    @property
    def generation_config(self) -> dict[str, Any]:
        return field_of(self.body, "generationConfig") or {}

    @property
    def response_modalities(self) -> list[str] | None:
        return field_of(self.generation_config, "responseModalities")

    @property
    def aspect_ratio(self) -> str | None:
        return field_of(field_of(self.generation_config, "imageConfig") or {}, "aspectRatio")

    @property
    def image_size(self) -> str | None:
        return field_of(field_of(self.generation_config, "imageConfig") or {}, "imageSize")

    @property
    def safety_settings(self) -> list[dict[str, Any]]:
        return field_of(self.body, "safetySettings") or []


@dataclass(frozen=True)
class _Failure:
    code: int
    status: str
    message: str
    details: list[dict[str, Any]] | None
    headers: Mapping[str, str]


@dataclass(frozen=True)
class _Block:
    finish_reason: str
    message: str | None


@dataclass(frozen=True)
class _PromptBlock:
    block_reason: str


@dataclass(frozen=True)
class _TextOnly:
    text: str


@dataclass(frozen=True)
class _Hang:
    seconds: float


@dataclass(frozen=True)
class _Drop:
    pass


_Action = _Failure | _Block | _PromptBlock | _TextOnly | _Hang | _Drop


class _Refused(Exception):
    """A request Gemini would refuse: answered with ``response``."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


class FakeGemini(LocalServer):
    """A local fake of the Gemini API's ``generateContent`` for image models: ``async with FakeGemini()``.

    Scripted behaviour (``fail_next``, ``block_next``, ``block_prompt_next``, ``text_only_next``,
    ``hang_next``, ``drop_next``) is queued and each request with an acceptable key consumes one entry,
    in order. ``attempts`` counts every ``generateContent`` request whatever happens to it; only answered
    ones (HTTP 200) land in ``requests``.
    """

    def __init__(self, *, api_key: str | None = None, models: set[str] | None = None) -> None:
        """``api_key``: when set, any other key gets Gemini's 400 ``API_KEY_INVALID`` (no key at all: 403);
        ``models``: the model names served (without ``models/``); others get 404 ``NOT_FOUND``."""
        self.api_key = api_key
        self.models = set(models) if models is not None else set(DEFAULT_MODELS)
        self.result_image: Image.Image | None = None
        """The picture every image answer returns; ``None`` paints one per request."""
        self.requests: list[GenerateRequest] = []
        self.attempts = 0
        self.last_api_key: str | None = None
        self._script: deque[_Action] = deque()
        self._closing = asyncio.Event()
        super().__init__()

    @property
    def base_url(self) -> str:
        """The ``HttpOptions.base_url`` to give ``genai.Client`` (the SDK adds ``/{api_version}/...``)."""
        return self.origin

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post("/{version}/models/{call}", self._models_call)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    async def close(self) -> None:
        """Stop listening; requests still hanging are released first."""
        self._closing.set()
        await super().close()

    # -- scripting -------------------------------------------------------------------------------------

    def fail_next(
        self,
        code: int,
        status: str,
        message: str = "",
        *,
        details: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests with HTTP ``code`` and ``{"error": {code, message, status,
        details}}``. An empty ``message`` is Gemini's own for ``status``; ``details=None`` gives a
        ``RESOURCE_EXHAUSTED`` Gemini's quota details (ending in ``retry_info("7s")``) and others none, while
        ``details=[]`` sends none. ``headers`` are added to the response (e.g. ``{"Retry-After": "7"}``)."""
        failure = _Failure(
            code,
            status,
            message or DEFAULT_MESSAGES.get(status, f"HTTP {code}"),
            None if details is None else [dict(detail) for detail in details],
            dict(headers or {}),
        )
        self._script.extend([failure] * times)

    def block_next(self, finish_reason: str = "IMAGE_SAFETY", *, message: str | None = None) -> None:
        """Answer the next request with one candidate that has ``finish_reason`` (``IMAGE_SAFETY``,
        ``PROHIBITED_CONTENT``, ``SAFETY``, ``NO_IMAGE``...) and no content; ``message`` is its
        ``finishMessage``."""
        self._script.append(_Block(finish_reason, message))

    def block_prompt_next(self, block_reason: str = "PROHIBITED_CONTENT") -> None:
        """Answer the next request with no candidates and ``promptFeedback.blockReason``."""
        self._script.append(_PromptBlock(block_reason))

    def text_only_next(self, text: str) -> None:
        """Answer the next request with words only: one text part, ``finishReason`` ``STOP``."""
        self._script.append(_TextOnly(text))

    def hang_next(self, seconds: float) -> None:
        """Make the next request wait ``seconds`` before it is answered (normally)."""
        self._script.append(_Hang(seconds))

    def drop_next(self) -> None:
        """Close the next request's connection without sending any response."""
        self._script.append(_Drop())

    # -- handlers --------------------------------------------------------------------------------------

    async def _models_call(self, request: web.Request) -> web.StreamResponse:
        version = request.match_info["version"]
        model, _, method = request.match_info["call"].partition(":")
        if version not in API_VERSIONS or method != "generateContent":
            return await self._not_found(request)
        self.attempts += 1
        headers = {name.lower(): value for name, value in request.headers.items()}
        key = headers.get("x-goog-api-key") or request.query.get("key")
        self.last_api_key = key
        raw = await request.read()
        try:
            self._check_key(key)
            action = await self._scripted(request)
            if isinstance(action, web.StreamResponse):
                return action
            if len(raw) > MAX_INLINE_BYTES:
                raise _Refused(
                    google_error(
                        400, "INVALID_ARGUMENT", "Request payload size exceeds the limit: 20971520 bytes."
                    )
                )
            if model not in self.models:
                message = (
                    f"models/{model} is not found for API version {version}, or is not supported for "
                    "generateContent. Call ListModels to see the list of available models and their "
                    "supported methods."
                )
                raise _Refused(google_error(404, "NOT_FOUND", message))
            body = _parse_body(raw)
            prompt, images = _read_contents(body)
        except _Refused as refused:
            return refused.response
        record = GenerateRequest(
            model,
            version,
            body,
            headers,
            key,
            prompt,
            images[0].data if images else None,
            images[0].mime_type if images else None,
            images,
        )
        try:
            answer = self._answer(record, action)
        except _Refused as refused:
            return refused.response
        self.requests.append(record)
        return _json(answer, headers={"Server-Timing": "gfet4t7; dur=4210"})

    def _check_key(self, key: str | None) -> None:
        if not key:
            raise _Refused(google_error(403, "PERMISSION_DENIED", NO_KEY_MESSAGE))
        if self.api_key is not None and key != self.api_key:
            localized = {"@type": LOCALIZED_MESSAGE, "locale": "en-US", "message": BAD_KEY_MESSAGE}
            details = [error_info("API_KEY_INVALID"), localized]
            raise _Refused(google_error(400, "INVALID_ARGUMENT", BAD_KEY_MESSAGE, details))

    async def _scripted(self, request: web.Request) -> _Action | web.StreamResponse | None:
        """The next scripted action; failures, drops and the end of a hang come back as a response."""
        if not self._script:
            return None
        action = self._script.popleft()
        if isinstance(action, _Hang):
            try:
                await asyncio.wait_for(self._closing.wait(), action.seconds)
            except TimeoutError:
                return None
            return google_error(503, "UNAVAILABLE", DEFAULT_MESSAGES["UNAVAILABLE"])  # shutting down
        if isinstance(action, _Drop):
            if request.transport is not None:
                request.transport.abort()
            return web.Response()  # Never reaches the client: the connection is already gone.
        if isinstance(action, _Failure):
            details = action.details
            if details is None and action.status == "RESOURCE_EXHAUSTED":
                model = request.match_info["call"].partition(":")[0]
                details = quota_details(model)
            return google_error(action.code, action.status, action.message, details, action.headers)
        return action

    def _answer(self, record: GenerateRequest, action: _Action | None) -> dict[str, Any]:
        """The JSON of a 200 answer to ``record``, which gains its ``picture``."""
        gemini3 = record.model.startswith("gemini-3")
        prompt_details = [{"modality": "TEXT", "tokenCount": text_tokens(record.prompt)}]
        photo = open_photo(record.image)
        if record.images:
            sizes = [_image_size(image) for image in record.images]
            prompt_details.append({"modality": "IMAGE", "tokenCount": sum(map(image_tokens, sizes))})
        prompt_tokens = sum(detail["tokenCount"] for detail in prompt_details)
        usage: dict[str, Any] = {
            "promptTokenCount": prompt_tokens,
            "totalTokenCount": prompt_tokens,
            "promptTokensDetails": prompt_details,
        }
        answer: dict[str, Any] = {"usageMetadata": usage}
        if isinstance(action, _PromptBlock):
            answer["promptFeedback"] = {"blockReason": action.block_reason}
            return self._finish(answer, record)
        if isinstance(action, _Block):
            candidate: dict[str, Any] = {"finishReason": action.finish_reason, "index": 0}
            if action.message:
                candidate["finishMessage"] = action.message
            answer["candidates"] = [candidate]
            return self._finish(answer, record)
        config = record.generation_config
        modalities = [str(m).upper() for m in field_of(config, "responseModalities") or ("TEXT", "IMAGE")]
        parts: list[dict[str, Any]] = []
        output: dict[str, int] = {}
        words = action.text if isinstance(action, _TextOnly) else None
        if words is None and "TEXT" in modalities:
            words = "Here is your action figure." if "IMAGE" in modalities else "An action figure, boxed."
        if words is not None:
            parts.append({"text": words})
            output["TEXT"] = text_tokens(words)
        if not isinstance(action, _TextOnly) and "IMAGE" in modalities:
            size, tokens = self._output_size(record, photo, gemini3)
            picture = self.result_image or paint(
                size, photo, _seed(record), whole_box=_wants_whole_box(record.prompt)
            )
            record.picture = picture
            signature = {"thoughtSignature": _signature()} if gemini3 else {}
            if gemini3 and field_of(field_of(config, "thinkingConfig") or {}, "includeThoughts"):
                draft = picture.reduce(2).filter(ImageFilter.BoxBlur(6))
                parts = [
                    {"text": THOUGHT, "thought": True},
                    {"inlineData": _inline_png(draft), "thought": True},
                    *parts,
                ]
            parts.append({"inlineData": _inline_png(picture), **signature})
            output["IMAGE"] = tokens
        candidate_tokens = sum(output.values())
        thoughts = GEMINI3_THOUGHT_TOKENS if gemini3 else 0
        usage["candidatesTokenCount"] = candidate_tokens
        usage["candidatesTokensDetails"] = [
            {"modality": modality, "tokenCount": count} for modality, count in output.items()
        ]
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        usage["totalTokenCount"] = prompt_tokens + candidate_tokens + thoughts
        answer["candidates"] = [
            {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}
        ]
        return self._finish(answer, record)

    def _finish(self, answer: dict[str, Any], record: GenerateRequest) -> dict[str, Any]:
        ordered = {key: answer[key] for key in ("candidates", "promptFeedback") if key in answer}
        return {
            **ordered,
            "usageMetadata": answer["usageMetadata"],
            "modelVersion": record.model,
            "responseId": secrets.token_urlsafe(17)[:23],
        }

    def _output_size(
        self, record: GenerateRequest, photo: Image.Image | None, gemini3: bool
    ) -> tuple[tuple[int, int], int]:
        """The picture's size and its output tokens, from the aspect ratio (and Gemini 3's image size)."""
        table = GEMINI3_SIZES if gemini3 else FLASH_SIZES
        ratio = record.aspect_ratio
        if ratio is None:
            ratio = _closest_ratio(photo.size, table) if photo is not None else "1:1"
        if ratio not in table:
            raise _Refused(google_error(400, "INVALID_ARGUMENT", DEFAULT_MESSAGES["INVALID_ARGUMENT"]))
        width, height = table[ratio]
        if not gemini3:
            return (width, height), FLASH_IMAGE_TOKENS
        image_size = record.image_size or "1K"
        if image_size not in GEMINI3_SCALES:  # "1k" too: Gemini wants a capital K
            raise _Refused(google_error(400, "INVALID_ARGUMENT", DEFAULT_MESSAGES["INVALID_ARGUMENT"]))
        scale = GEMINI3_SCALES[image_size]
        return (width * scale, height * scale), GEMINI3_IMAGE_TOKENS[image_size]

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        """Google's HTML 404 for a URL nothing answers."""
        return web.Response(
            status=404, text=_HTML_404.format(path=request.path), content_type="text/html", charset="UTF-8"
        )


def field_of(message: Mapping[str, Any], name: str) -> Any:
    """Field ``name`` (lowerCamelCase) of a JSON message, also under its snake_case name: Google's parser
    takes both, and the SDK sends some fields (``inline_data.mime_type``, ``thinkingConfig.include_thoughts``)
    as snake_case."""
    if name in message:
        return message[name]
    return message.get(re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower())


def google_error(
    code: int,
    status: str,
    message: str,
    details: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A Google API error response: ``{"error": {"code", "message", "status", "details"}}``."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = [dict(detail) for detail in details]
    return _json({"error": error}, status=code, headers=headers)


def _json(
    body: dict[str, Any], *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """``body`` as Google sends JSON: indented, ``application/json; charset=UTF-8``."""
    return web.Response(
        text=json.dumps(body, indent=2),
        status=status,
        headers=dict(headers or {}),
        content_type="application/json",
        charset="UTF-8",
    )


def _invalid(message: str) -> _Refused:
    return _Refused(google_error(400, "INVALID_ARGUMENT", message))


def _parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise _invalid(
            f"Invalid JSON payload received. Unexpected token.\n{raw[:40].decode(errors='replace')}\n^"
        ) from None
    if not isinstance(body, dict):
        raise _invalid("Invalid JSON payload received. Expected an object.")
    return body


def _read_contents(body: dict[str, Any]) -> tuple[str, list[InlineImage]]:
    """The prompt text and the inline images of the request's user turns."""
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise _invalid("* GenerateContentRequest.contents: contents is not specified\n")
    texts: list[str] = []
    images: list[InlineImage] = []
    for content_index, content in enumerate(contents):
        if not isinstance(content, dict) or content.get("role", "user") != "user":
            continue
        for part_index, part in enumerate(content.get("parts") or []):
            if not isinstance(part, dict) or part.get("thought"):
                continue
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            blob = field_of(part, "inlineData")
            if isinstance(blob, dict):
                where = f"contents[{content_index}].parts[{part_index}].inline_data"
                images.append(_read_blob(blob, where))
    if not texts and not images:
        raise _invalid("* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n")
    return "\n".join(texts), images


def _read_blob(blob: dict[str, Any], where: str) -> InlineImage:
    mime_type = str(field_of(blob, "mimeType") or "")
    data = str(blob.get("data") or "")
    try:  # Protobuf JSON takes standard and URL-safe base64, padded or not.
        decoded = base64.urlsafe_b64decode(data.replace("+", "-").replace("/", "_") + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        raise _invalid(
            f"Invalid value at '{where}.data' (TYPE_BYTES), Base64 decoding failed for \"{data[:20]}\""
        ) from None
    if mime_type not in INPUT_IMAGE_TYPES:
        raise _invalid(f"Unsupported MIME type: {mime_type}")
    return InlineImage(mime_type, decoded)


def _image_size(image: InlineImage) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(image.data)) as opened:
            return opened.size
    except (OSError, ValueError):
        raise _invalid(
            "Unable to process input image. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting"
        ) from None


def _wants_whole_box(prompt: str) -> bool:
    """The whole box or a figurine scene (full bleed), rather than the toy on a plain backdrop."""
    return PACKAGING in prompt or FIGURINE in prompt.lower()


def _seed(record: GenerateRequest) -> int:
    seed = record.generation_config.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    return zlib.crc32(record.image or record.prompt.encode())


def _closest_ratio(size: tuple[int, int], table: Mapping[str, tuple[int, int]]) -> str:
    width, height = size
    return min(table, key=lambda ratio: abs(math.log(table[ratio][0] / table[ratio][1] * height / width)))


def _inline_png(picture: Image.Image) -> dict[str, str]:
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=1)
    return {"mimeType": "image/png", "data": base64.b64encode(buffer.getvalue()).decode("ascii")}


def _signature() -> str:
    return base64.b64encode(secrets.token_bytes(48)).decode("ascii")
