"""A fake OpenAI API on 127.0.0.1 for tests that drive the real ``openai`` SDK.

It speaks the wire format of ``POST /v1/images/edits`` (JSON, or server-sent events when ``stream`` is
true) and ``POST /v1/moderations``, records what it receives, and can be scripted to fail, hang or drop
the connection::

    async with FakeOpenAI() as api:
        client = openai.AsyncOpenAI(api_key="sk-test", base_url=api.base_url, max_retries=0)
        api.fail_next(429, "rate_limit_exceeded", headers={"retry-after": "7"})
        ...
        assert api.edit_attempts == 2 and api.edits[0].image_content_type == "image/jpeg"
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import BodyPartReader, web
from PIL import Image, ImageDraw, ImageFilter

from tests.fakes.server import MAX_REQUEST_BYTES, LocalServer

Endpoint = Literal["edits", "moderations"]

SUPPORTED_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
DEFAULT_SIZE = (1024, 1536)
MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
# Categories the moderation model also scores on images (see ``CategoryAppliedInputTypes``).
IMAGE_CATEGORIES = frozenset(
    {"self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "violence", "violence/graphic"}
)

# (type, message) used when ``fail_next`` is not given them: first by code, then by status.
_ERRORS_BY_CODE: dict[str, tuple[str, str]] = {
    "rate_limit_exceeded": (
        "requests",
        "Rate limit reached for images per minute (IPM) in organization org-fake: Limit 5, Used 5, "
        "Requested 1. Please try again in 12s.",
    ),
    "insufficient_quota": (
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
    ),
    "invalid_api_key": (
        "invalid_request_error",
        "Incorrect API key provided: sk-te***st. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    "invalid_image_format": (
        "invalid_request_error",
        "Invalid input image - format must be in ['image/jpeg', 'image/png', 'image/webp'].",
    ),
    "invalid_image": (
        "invalid_request_error",
        "Invalid image file or mode for image 1, please check your image file.",
    ),
}
_ERRORS_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("invalid_request_error", "You didn't provide an API key."),
    403: (
        "invalid_request_error",
        "Your organization must be verified to use this model. Please go to "
        "https://platform.openai.com/settings/organization/general and click on Verify Organization.",
    ),
    404: ("invalid_request_error", "The model does not exist or you do not have access to it."),
    429: ("requests", "Rate limit reached. Please try again later."),
    500: ("server_error", "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", "Bad gateway."),
    503: ("server_error", "The engine is currently overloaded, please try again later."),
}


def usage_dict(
    *, text_tokens: int = 300, image_tokens: int = 1000, output_tokens: int = 4000
) -> dict[str, Any]:
    """The ``usage`` object of an image response, in wire format."""
    return {
        "input_tokens": text_tokens + image_tokens,
        "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": text_tokens},
        "output_tokens": output_tokens,
        "output_tokens_details": {"image_tokens": output_tokens, "text_tokens": 0},
        "total_tokens": text_tokens + image_tokens + output_tokens,
    }


def figure_image(size: tuple[int, int] = DEFAULT_SIZE, *, transparent: bool = True) -> Image.Image:
    """An RGBA picture of a simple coloured figure, on a fully transparent or an opaque light background."""
    width, height = size
    image = Image.new("RGBA", size, (0, 0, 0, 0) if transparent else (238, 238, 238, 255))
    draw = ImageDraw.Draw(image)
    cx, unit = width / 2, min(width, height * 2 / 3) / 10
    draw.ellipse((cx - 1.2 * unit, 1.5 * unit, cx + 1.2 * unit, 3.9 * unit), fill=(240, 190, 150, 255))
    draw.rounded_rectangle(
        (cx - 2 * unit, 4.1 * unit, cx + 2 * unit, 9 * unit), unit, fill=(40, 90, 200, 255)
    )
    draw.rounded_rectangle(
        (cx - 1.8 * unit, 9.2 * unit, cx + 1.8 * unit, 13 * unit), unit / 2, fill=(30, 30, 60, 255)
    )
    draw.ellipse((cx - 3 * unit, 13.2 * unit, cx + 3 * unit, 14.4 * unit), fill=(200, 40, 40, 255))
    return image


def moderation_blocked_message(categories: tuple[str, ...], request_id: str) -> str:
    """The message OpenAI's image endpoints send with code ``moderation_blocked``."""
    return (
        "Your request was rejected by the safety system. If you believe this is an error, contact us at "
        f"help.openai.com and include the request ID {request_id}. "
        f"safety_violations=[{', '.join(categories)}]."
    )


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class EditRequest:
    """One ``POST /v1/images/edits`` request that was answered successfully.

    ``image``, ``image_filename`` and ``image_content_type`` describe the first ``image``/``image[]`` part;
    ``files`` holds every file part (all images, ``mask``, ``markup``) in order. Header names are lower case.
    """

    fields: dict[str, str]
    image: bytes | None
    image_filename: str | None
    image_content_type: str | None
    headers: dict[str, str]
    authorization: str | None
    files: list[UploadedFile] = field(default_factory=list)

    @property
    def images(self) -> list[UploadedFile]:
        """The ``image`` / ``image[]`` parts, in order."""
        return [part for part in self.files if part.field in ("image", "image[]")]


@dataclass(frozen=True)
class _Failure:
    status: int
    code: str | None
    message: str | None
    type: str | None
    param: str | None
    headers: Mapping[str, str]
    extra: Mapping[str, Any]


@dataclass(frozen=True)
class _Hang:
    seconds: float


@dataclass(frozen=True)
class _Drop:
    pass


_Action = _Failure | _Hang | _Drop


class FakeOpenAI(LocalServer):
    """A local fake of OpenAI's image-edit and moderation endpoints: ``async with FakeOpenAI() as api``.

    Scripted behaviour (``fail_next``, ``block_next``, ``hang_next``, ``drop_next``) is queued per endpoint
    and each incoming request consumes one entry, in order. Requests are counted in ``edit_attempts`` /
    ``moderation_attempts`` whatever happens to them; only successfully answered ones land in ``edits`` /
    ``moderations``.
    """

    def __init__(self, *, api_key: str | None = None) -> None:
        """``api_key``: when set, any other bearer token gets a 401 ``invalid_api_key``."""
        self.api_key = api_key
        self.result_image: Image.Image | None = None
        """The picture every edit returns; ``None`` draws ``figure_image`` per request (size, background)."""
        self.usage: dict[str, Any] = usage_dict()
        self.flag_words: dict[str, list[str]] = {}
        """Moderation: an input containing the word (case-insensitive, whole word) gets these categories."""
        self.check_mimetype = True
        """Reject image parts that are not JPEG/PNG/WebP with the real API's ``unsupported_file_mimetype``."""
        self.event_delay = 0.0
        """Seconds to wait before each server-sent event of a streamed edit."""
        self.edits: list[EditRequest] = []
        self.moderations: list[dict[str, Any]] = []
        self.edit_attempts = 0
        self.moderation_attempts = 0
        self.last_authorization: str | None = None
        self._script: dict[Endpoint, deque[_Action]] = {"edits": deque(), "moderations": deque()}
        self._closing = asyncio.Event()
        super().__init__()

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give ``openai.AsyncOpenAI``."""
        return f"{self.origin}/v1"

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post("/v1/images/edits", self._edits)
        app.router.add_post("/v1/moderations", self._moderations)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    async def close(self) -> None:
        """Stop listening; requests still hanging are released first."""
        self._closing.set()
        await super().close()

    # -- scripting -------------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        code: str | None = None,
        *,
        message: str | None = None,
        type: str | None = None,  # Mirrors the wire field.
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        endpoint: Endpoint = "edits",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``{"error": {message, type, param, code, **extra}}``.

        ``message`` and ``type`` default to what OpenAI sends for ``code`` (else for ``status``); for
        ``moderation_blocked`` the message names the categories (``sexual`` unless ``block_next`` is used).
        """
        failure = _Failure(status, code, message, type, param, dict(headers or {}), dict(extra or {}))
        self._script[endpoint].extend([failure] * times)

    def block_next(
        self, *categories: str, stage: Literal["input", "output"] = "input", times: int = 1
    ) -> None:
        """Reject the next edit(s) as OpenAI's safety system does: 400 ``moderation_blocked`` naming them."""
        categories = categories or ("sexual",)
        details = {"moderation_details": {"moderation_stage": stage, "categories": list(categories)}}
        self.fail_next(400, "moderation_blocked", times=times, extra=details)

    def hang_next(self, seconds: float, *, endpoint: Endpoint = "edits") -> None:
        """Make the next request wait ``seconds`` before it is answered (normally)."""
        self._script[endpoint].append(_Hang(seconds))

    def drop_next(self, *, endpoint: Endpoint = "edits") -> None:
        """Close the next request's connection without sending any response."""
        self._script[endpoint].append(_Drop())

    # -- handlers --------------------------------------------------------------------------------------

    async def _edits(self, request: web.Request) -> web.StreamResponse:
        self.edit_attempts += 1
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.last_authorization = headers.get("authorization")
        fields, files = await _read_multipart(request)
        early = await self._scripted(request, "edits")
        if early is not None:
            return early
        images = [part for part in files if part.field in ("image", "image[]")]
        if not images:
            return _error(400, "Missing required parameter: 'image'.", "invalid_request_error", "image", None)
        if "prompt" not in fields:
            return _error(
                400, "Missing required parameter: 'prompt'.", "invalid_request_error", "prompt", None
            )
        for index, part in enumerate(images):
            if self.check_mimetype and part.content_type not in SUPPORTED_IMAGE_TYPES:
                name = part.field.replace("[]", f"[{index}]")
                message = (
                    f"Invalid file '{name}': unsupported mimetype ('{part.content_type}'). Supported file "
                    "formats are 'image/jpeg', 'image/png', and 'image/webp'."
                )
                return _error(400, message, "invalid_request_error", name, "unsupported_file_mimetype")
        first = images[0]
        self.edits.append(
            EditRequest(
                fields,
                first.data,
                first.filename,
                first.content_type,
                headers,
                headers.get("authorization"),
                files,
            )
        )
        return await self._edit_result(request, fields)

    async def _edit_result(self, request: web.Request, fields: dict[str, str]) -> web.StreamResponse:
        background = fields.get("background", "auto")
        background = "transparent" if background == "transparent" else "opaque"
        picture = self.result_image or figure_image(
            _parse_size(fields.get("size")), transparent=background == "transparent"
        )
        output_format = fields.get("output_format", "png")
        meta: dict[str, Any] = {
            "background": background,
            "output_format": output_format,
            "quality": "medium" if fields.get("quality", "auto") == "auto" else fields["quality"],
            "size": f"{picture.width}x{picture.height}",
        }
        if fields.get("safety_identifier"):
            meta["safety_identifier"] = fields["safety_identifier"]
        compression = int(fields["output_compression"]) if "output_compression" in fields else None
        final = _encode(picture, output_format, compression)
        if fields.get("stream") != "true":
            count = int(fields.get("n", "1"))
            body = {
                "created": int(time.time()),
                "data": [{"b64_json": final}] * count,
                "usage": self.usage,
                **meta,
            }
            return web.json_response(body, headers=_request_id_header())
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8", **_request_id_header()}
        )
        await response.prepare(request)
        partials = int(fields.get("partial_images", "0"))
        for index in range(partials):
            blurred = picture.filter(ImageFilter.GaussianBlur(24 * (partials - index) / partials))
            event = {
                "type": "image_edit.partial_image",
                "partial_image_index": index,
                "created_at": int(time.time()),
            }
            await self._send_event(
                response, {**event, "b64_json": _encode(blurred, output_format, compression), **meta}
            )
        event = {
            "type": "image_edit.completed",
            "created_at": int(time.time()),
            "b64_json": final,
            "usage": self.usage,
        }
        await self._send_event(response, {**event, **meta})
        await response.write_eof()
        return response

    async def _send_event(self, response: web.StreamResponse, event: dict[str, Any]) -> None:
        if self.event_delay:
            await asyncio.sleep(self.event_delay)
        await response.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())

    async def _moderations(self, request: web.Request) -> web.StreamResponse:
        self.moderation_attempts += 1
        self.last_authorization = request.headers.get("Authorization")
        try:
            body = await request.json()
        except ValueError:
            return _error(
                400, "We could not parse the JSON body of your request.", "invalid_request_error", None, None
            )
        early = await self._scripted(request, "moderations")
        if early is not None:
            return early
        self.moderations.append(body)
        raw = body.get("input")
        inputs: list[Any] = [raw] if isinstance(raw, str) else list(raw or [])
        if inputs and all(isinstance(item, dict) for item in inputs):
            inputs = [inputs]  # One multi-modal input: a single result for all its parts.
        results = [self._moderation_result(item) for item in inputs]
        model = body.get("model", "omni-moderation-latest")
        return web.json_response(
            {"id": f"modr-{secrets.token_hex(12)}", "model": model, "results": results},
            headers=_request_id_header(),
        )

    def _moderation_result(self, item: str | list[dict[str, Any]]) -> dict[str, Any]:
        if isinstance(item, str):
            text, has_image = item, False
        else:
            text = " ".join(str(part.get("text", "")) for part in item if part.get("type") == "text")
            has_image = any(part.get("type") == "image_url" for part in item)
        hits: set[str] = set()
        for word, categories in self.flag_words.items():
            if re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE):
                unknown = set(categories) - set(MODERATION_CATEGORIES)
                if unknown:
                    raise ValueError(f"flag_words[{word!r}] names unknown categories {sorted(unknown)}")
                hits.update(categories)
        return {
            "flagged": bool(hits),
            "categories": {name: name in hits for name in MODERATION_CATEGORIES},
            "category_scores": {name: 0.91 if name in hits else 0.0002 for name in MODERATION_CATEGORIES},
            "category_applied_input_types": {
                name: ["text", "image"] if has_image and name in IMAGE_CATEGORIES else ["text"]
                for name in MODERATION_CATEGORIES
            },
        }

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        return _error(
            404, f"Invalid URL ({request.method} {request.path})", "invalid_request_error", None, None
        )

    async def _scripted(self, request: web.Request, endpoint: Endpoint) -> web.StreamResponse | None:
        """Play the next scripted action; a response (or a dropped connection) ends the request early."""
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._failure_response(_Failure(401, "invalid_api_key", None, None, None, {}, {}))
        if not self._script[endpoint]:
            return None
        action = self._script[endpoint].popleft()
        if isinstance(action, _Hang):
            try:
                await asyncio.wait_for(self._closing.wait(), action.seconds)
            except TimeoutError:
                return None
            raise web.HTTPServiceUnavailable()  # The fake is shutting down.
        if isinstance(action, _Drop):
            if request.transport is not None:
                request.transport.abort()
            return web.Response()  # Never reaches the client: the connection is already gone.
        return self._failure_response(action)

    def _failure_response(self, failure: _Failure) -> web.Response:
        request_id = _new_request_id()
        type_, message = (
            _ERRORS_BY_CODE.get(failure.code or "")
            or _ERRORS_BY_STATUS.get(failure.status)
            or (
                "server_error" if failure.status >= 500 else "invalid_request_error",
                f"HTTP {failure.status}",
            )
        )
        if failure.code == "moderation_blocked":
            type_ = "image_generation_user_error"
            categories = failure.extra.get("moderation_details", {}).get("categories", ["sexual"])
            message = moderation_blocked_message(tuple(categories), request_id)
        param = failure.param
        if param is None and failure.code in ("invalid_image_format", "invalid_image"):
            param = "image"
        return _error(
            failure.status,
            failure.message or message,
            failure.type or type_,
            param,
            failure.code,
            headers={**failure.headers, "x-request-id": request_id},
            extra=failure.extra,
        )


async def _read_multipart(request: web.Request) -> tuple[dict[str, str], list[UploadedFile]]:
    """The text fields and file parts of a ``multipart/form-data`` body."""
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is None:
            fields[part.name] = await part.text()
        else:
            data = bytes(await part.read())
            files.append(UploadedFile(part.name, part.filename, part.headers.get("Content-Type"), data))
    return fields, files


def _error(
    status: int,
    message: str,
    type_: str,
    param: str | None,
    code: str | None,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> web.Response:
    """An OpenAI error response: ``{"error": {"message", "type", "param", "code"}}``."""
    body = {"error": {"message": message, "type": type_, "param": param, "code": code, **(extra or {})}}
    return web.json_response(body, status=status, headers={**_request_id_header(), **(headers or {})})


def _new_request_id() -> str:
    return f"req_{secrets.token_hex(16)}"


def _request_id_header() -> dict[str, str]:
    return {"x-request-id": _new_request_id()}


def _parse_size(size: str | None) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", size or "")
    return (int(match[1]), int(match[2])) if match else DEFAULT_SIZE


def _encode(picture: Image.Image, output_format: str, compression: int | None) -> str:
    """``picture`` saved as ``output_format`` (png, jpeg or webp), base64-encoded."""
    buffer = io.BytesIO()
    if output_format == "jpeg":
        flat = Image.new("RGB", picture.size, (255, 255, 255))
        flat.paste(picture, mask=picture.getchannel("A") if picture.mode == "RGBA" else None)
        flat.save(buffer, "JPEG", quality=compression or 90)
    elif output_format == "webp":
        picture.save(buffer, "WEBP", quality=compression or 90)
    else:
        picture.save(buffer, "PNG", compress_level=1)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
