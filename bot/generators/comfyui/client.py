"""One ComfyUI server, spoken to over its own HTTP and websocket API (as ComfyUI's ``server.py`` serves it).

A painting is: connect the websocket ``/ws?clientId=…`` first (so no event is missed), upload the photo
to the temp folder (``POST /upload/image``), queue the bound workflow (``POST /prompt``), follow its
events (``progress``, binary preview frames, ``execution_success``), read where the image went
(``GET /history/{id}``), fetch it (``GET /view``) and delete the history entry, which holds the prompt
with the user's words. A cancelled painting is taken off the server's queue, or interrupted there.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import struct
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from PIL import Image
from yarl import URL

from bot.generators.base import MAX_RESULT_PIXELS, Misconfigured, Progress, Transient, read_picture
from bot.generators.comfyui.workflow import Graph

log = logging.getLogger("figurebot.comfyui")

PREVIEW_IMAGE = 1  # binary websocket event: a preview (4-byte format code, then the image bytes)
PREVIEW_SIDE = 512
QUEUE_POLL = 2.0  # seconds between looks at the server's queue while the painting waits there
CLEANUP_TIMEOUT = 5.0

Report = Callable[[Progress], Awaitable[None]]


class ServerTrouble(Transient):
    """This server could not paint the figure (down, silent, out of memory); another one may."""


@dataclass(frozen=True)
class Queue:
    """A server's queue: the prompt ids running and waiting, in the order it runs them."""

    running: tuple[str, ...]
    pending: tuple[str, ...]

    @property
    def length(self) -> int:
        return len(self.running) + len(self.pending)

    def ahead_of(self, prompt_id: str) -> int | None:
        """How many prompts run before ``prompt_id`` (``None``: it is not waiting)."""
        if prompt_id not in self.pending:
            return None
        return len(self.running) + self.pending.index(prompt_id)


def _queue(answer: Any) -> Queue:
    def ids(entries: Any) -> list[tuple[float, str]]:
        rows = entries if isinstance(entries, list) else []
        return [(float(row[0]), str(row[1])) for row in rows if isinstance(row, list) and len(row) > 1]

    pending = sorted(ids(answer.get("queue_pending")) if isinstance(answer, dict) else [])
    running = ids(answer.get("queue_running")) if isinstance(answer, dict) else []
    return Queue(tuple(entry[1] for entry in running), tuple(entry[1] for entry in pending))


class ComfyServer:
    """The API of the ComfyUI server at ``url`` over a caller's ``aiohttp`` session."""

    def __init__(self, url: str, timeout: float) -> None:
        self.base = url.rstrip("/")
        self.label = str(URL(self.base).with_user(None).with_password(None).with_query(None))
        self.timeout = timeout

    def at(self, path: str) -> URL:
        """The address of ``path`` on this server (under the base URL's own path, behind a proxy)."""
        return URL(self.base + path)

    def _trouble(self, what: str) -> ServerTrouble:
        return ServerTrouble(f"The GPU server {self.label} {what}.")

    async def _call(self, session: aiohttp.ClientSession, method: str, path: str, **options: Any) -> Any:
        """The JSON (or ``None``) answer of one request; failures come out typed."""
        try:
            async with session.request(method, self.at(path), **options) as answer:
                body = await answer.read()
        except TimeoutError:
            raise self._trouble("did not answer in time") from None
        except aiohttp.ClientError:
            raise self._trouble("could not be reached") from None
        if answer.status in (401, 403):
            raise Misconfigured(
                f"ComfyUI at {self.label} refused the request ({answer.status}): check COMFYUI_TOKEN."
            )
        if answer.status >= 500 or answer.status == 429:
            raise self._trouble(f"had a problem ({answer.status})")
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        if answer.status == 400 and path == "/prompt":
            raise Misconfigured(workflow_problem(self.label, data))
        if answer.status >= 400:
            raise Misconfigured(f"ComfyUI at {self.label} answered {path} with {answer.status}.")
        return data if data is not None else body

    async def queue(self, session: aiohttp.ClientSession, timeout: float | None = None) -> Queue:
        """What the server is running and what waits; ``timeout`` bounds it (a health check)."""
        options = {"timeout": aiohttp.ClientTimeout(total=timeout)} if timeout else {}
        return _queue(await self._call(session, "GET", "/queue", **options))

    async def upload(self, session: aiohttp.ClientSession, png: bytes) -> str:
        """Put the photo in the server's temp folder (cleared when ComfyUI starts); its annotated name."""
        form = aiohttp.FormData()
        form.add_field("image", png, filename=f"figurebot-{uuid.uuid4().hex}.png", content_type="image/png")
        form.add_field("type", "temp")
        form.add_field("overwrite", "true")
        answer = await self._call(session, "POST", "/upload/image", data=form)
        if not isinstance(answer, dict) or not answer.get("name"):
            raise self._trouble("did not take the photo")
        name = f"{answer['subfolder']}/{answer['name']}" if answer.get("subfolder") else str(answer["name"])
        return f"{name} [temp]"

    async def submit(self, session: aiohttp.ClientSession, graph: Graph, client_id: str) -> str:
        """Queue ``graph`` for the websocket client ``client_id``, asking for previews; its prompt id."""
        request = {"prompt": graph, "client_id": client_id, "extra_data": {"preview_method": "auto"}}
        answer = await self._call(session, "POST", "/prompt", json=request)
        if not isinstance(answer, dict) or not answer.get("prompt_id"):
            raise self._trouble("did not queue the figure")
        return str(answer["prompt_id"])

    async def image(self, session: aiohttp.ClientSession, prompt_id: str, output: str) -> Image.Image:
        """The first image the finished prompt's ``output`` node made."""
        history = await self._call(session, "GET", f"/history/{prompt_id}")
        entry = history.get(prompt_id) if isinstance(history, dict) else None
        if not isinstance(entry, dict) or entry.get("status", {}).get("status_str") == "error":
            raise self._trouble("lost the figure before it was finished")
        outputs = entry.get("outputs", {}) if isinstance(entry.get("outputs"), dict) else {}
        images = outputs.get(output, {}).get("images") if isinstance(outputs.get(output), dict) else None
        if not images or not isinstance(images[0], dict) or "filename" not in images[0]:
            raise Misconfigured(
                f"ComfyUI at {self.label}: the workflow's output node {output} made no image; "
                "check the binding's output."
            )
        found = images[0]
        query = {
            "filename": str(found["filename"]),
            "subfolder": str(found.get("subfolder", "")),
            "type": str(found.get("type", "temp")),
        }
        data = await self._call(session, "GET", "/view", params=query)
        picture = data if isinstance(data, bytes) else b""
        return await asyncio.to_thread(read_picture, picture, f"The GPU server {self.label}", ServerTrouble)

    async def forget(self, session: aiohttp.ClientSession, prompt_id: str) -> None:
        """Delete the prompt's history entry: it holds the user's words."""
        await self._call(session, "POST", "/history", json={"delete": [prompt_id]})

    async def stop(self, session: aiohttp.ClientSession, prompt_id: str) -> None:
        """Take ``prompt_id`` off the queue while it waits; interrupt it while it runs. The interrupt
        names the prompt (newer servers stop only that one) and is sent only once the queue shows that
        the running prompt is ours (older servers stop whatever runs)."""
        queue = await self.queue(session)
        if prompt_id in queue.pending:
            await self._call(session, "POST", "/queue", json={"delete": [prompt_id]})
        elif prompt_id in queue.running:
            await self._call(session, "POST", "/interrupt", json={"prompt_id": prompt_id})

    async def paint(
        self,
        session: aiohttp.ClientSession,
        png: bytes,
        bind: Callable[[str], Graph],
        output: str,
        report: Report,
    ) -> Image.Image:
        """Upload ``png``, queue ``bind(uploaded name)``, follow it to the end and fetch the image. The
        prompt is stopped on the server when this is cancelled, and its history entry deleted."""
        client_id = uuid.uuid4().hex
        try:
            ws = await session.ws_connect(self.at("/ws").with_query(clientId=client_id))
        except TimeoutError:
            raise self._trouble("did not answer in time") from None
        except aiohttp.ClientError:
            raise self._trouble("could not be reached") from None
        prompt_id = None
        finished = False
        try:
            async with ws:
                name = await self.upload(session, png)
                prompt_id = await self.submit(session, bind(name), client_id)
                await self._follow(session, ws, prompt_id, report)
                finished = True
                return await self.image(session, prompt_id, output)
        finally:
            if prompt_id is not None:
                await self._clean_up(session, prompt_id, stop=not finished)

    async def _clean_up(self, session: aiohttp.ClientSession, prompt_id: str, stop: bool) -> None:
        """Stop an unfinished prompt and delete its history entry, within ``CLEANUP_TIMEOUT``; a server
        that cannot be reached any more is left alone."""
        with contextlib.suppress(Transient, Misconfigured, TimeoutError):
            async with asyncio.timeout(CLEANUP_TIMEOUT):
                if stop:
                    await self.stop(session, prompt_id)
                await self.forget(session, prompt_id)

    async def _follow(
        self,
        session: aiohttp.ClientSession,
        ws: aiohttp.ClientWebSocketResponse,
        prompt_id: str,
        report: Report,
    ) -> None:
        """Pass on the prompt's progress and previews until it has run; while it waits in the server's
        queue, how many prompts are ahead of it."""
        started, fraction, ahead = False, 0.0, None
        while True:
            try:
                message = await ws.receive(timeout=self.timeout if started else QUEUE_POLL)
            except TimeoutError:
                if started:
                    raise self._trouble(f"sent no news for {round(self.timeout)} s") from None
                queue = await self.queue(session)
                now = queue.ahead_of(prompt_id)
                if now is None and prompt_id not in queue.running:
                    return  # ran while we looked away (events missed): the history has the image
                if now != ahead and now is not None:
                    ahead = now
                    await report(Progress(0.0, f"in the GPU queue, {now} ahead"))
                started = prompt_id in queue.running
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                preview = await asyncio.to_thread(decode_preview, message.data)
                if preview is not None:
                    await report(Progress(fraction, "painting", preview))
                continue
            if message.type != aiohttp.WSMsgType.TEXT:
                raise self._trouble("closed the connection mid-way")
            kind, data = _event(message.data)
            if data.get("prompt_id") not in (None, prompt_id):
                continue
            if kind == "execution_start":
                started = True
                await report(Progress(0.02, "starting"))
            elif kind == "progress" and data.get("prompt_id") == prompt_id:
                started = True
                fraction = 0.05 + 0.85 * _share(data)
                await report(Progress(fraction, "painting"))
            elif kind == "execution_success":
                started = False  # its history is written next: the end comes with ``executing`` null
            elif kind == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id:
                return
            elif kind == "execution_error":
                raise self._failure(data)
            elif kind == "execution_interrupted":
                raise self._trouble("stopped the figure (interrupted there)")

    def _failure(self, data: dict[str, Any]) -> Exception:
        """The typed error of an ``execution_error`` event: out of memory passes, the rest is the
        operator's to fix."""
        kind = str(data.get("exception_type", ""))
        text = str(data.get("exception_message", "")).strip()
        said = f"{kind} {text}".lower()
        if "outofmemory" in said.replace(" ", "") or "allocation on device" in said:
            return self._trouble("ran out of GPU memory")
        node = f"node {data.get('node_id', '?')} ({data.get('node_type', '?')})"
        return Misconfigured(f"ComfyUI at {self.label}: {node} failed: {kind}: {text[:300]}")


def _event(text: str) -> tuple[str, dict[str, Any]]:
    try:
        message = json.loads(text)
    except ValueError:
        return "", {}
    if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
        return "", {}
    return str(message.get("type", "")), message["data"]


def _share(data: dict[str, Any]) -> float:
    try:
        value, most = float(data.get("value", 0)), float(data.get("max", 1))
    except (TypeError, ValueError):
        return 0.0
    return min(1.0, max(0.0, value / most)) if most > 0 else 0.0


def decode_preview(frame: bytes) -> Image.Image | None:
    """The picture in a binary preview frame (event 1: a format code, then JPEG or PNG bytes), made
    small; ``None`` for any other frame or one that cannot be read."""
    if len(frame) < 8 or struct.unpack(">I", frame[:4])[0] != PREVIEW_IMAGE:
        return None
    try:
        with Image.open(io.BytesIO(frame[8:])) as image:
            if image.width * image.height > MAX_RESULT_PIXELS:
                return None
            image.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))
            preview = image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return preview


def workflow_problem(label: str, answer: Any) -> str:
    """What a 400 answer to ``POST /prompt`` says, for the operator: the error, and each node that
    cannot run with what it lacks."""
    error = answer.get("error") if isinstance(answer, dict) else None
    headline = error.get("message", "") if isinstance(error, dict) else str(error or "rejected")
    details = error.get("details", "") if isinstance(error, dict) else ""
    parts = [f"ComfyUI at {label} cannot run the workflow: {headline}" + (f" ({details})" if details else "")]
    nodes = answer.get("node_errors") if isinstance(answer, dict) else None
    for node, problem in nodes.items() if isinstance(nodes, dict) else []:
        found = problem.get("errors", []) if isinstance(problem, dict) else []
        said = "; ".join(
            f"{item.get('message', '')}: {str(item.get('details', ''))[:200]}".strip(": ")
            for item in found
            if isinstance(item, dict)
        )
        kind = problem.get("class_type", "?") if isinstance(problem, dict) else "?"
        parts.append(f"node {node} ({kind}): {said or 'invalid'}")
    parts.append("Install the missing custom node or model file, or choose another COMFYUI_WORKFLOW.")
    return " ".join(parts)
