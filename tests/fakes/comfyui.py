"""A fake ComfyUI server on 127.0.0.1 for tests that drive the real ``comfyui`` generator.

It speaks ComfyUI's HTTP API and websocket protocol (below), runs queued prompts one at a time in queue
order, paints a cheap but photo- and seed-dependent picture with Pillow, records what it receives, and
can be scripted to refuse, fail, hang or crash::

    async with FakeComfyUI(step_delay=0.01) as comfy:
        comfy.out_of_memory_next()
        painting = asyncio.create_task(paint_at(comfy.origin))  # the code under test
        prompt_id = await comfy.until_running()
        ...
        assert comfy.uploads[0].type == "temp" and comfy.prompts[0].prompt_id == prompt_id
        assert comfy.history[prompt_id]["status"]["status_str"] == "error"

Confirmed in ComfyUI's code: Comfy-Org/ComfyUI (where comfyanonymous/ComfyUI now lives) at server.py
002c3fb9, execution.py 04e2a914, main.py 02018c7e, nodes.py 02217e36, folder_paths.py 1df2885e,
latent_preview.py 2d619ed9, comfy/cli_args.py 03294572, comfy_execution/progress.py 1b71f275, jobs.py
172be438, comfy_api/feature_flags.py 1924b05e; older behaviour from comfyanonymous/ComfyUI d4b50979 (2024).

- Every route also answers under ``/api``. ``POST /prompt`` takes ``{"prompt", "client_id", "extra_data",
  "number" | "front", "prompt_id", "partial_execution_targets"}``; ``number`` counts from 0 (``front``
  negates it) and the queue is a heap on ``(number, prompt_id)``. ``client_id`` is copied into
  ``extra_data``, which gains ``create_time`` (ms). A client ``prompt_id`` must be a canonical UUID (400
  ``invalid_prompt_id``; 2024 servers ignored it and minted their own). Answer: ``{"prompt_id", "number",
  "node_errors"}``; refusals are 400 ``{"error": {"type", "message", "details", "extra_info"},
  "node_errors"}``. A missing node type is ``missing_node_type`` ("Node 'TITLE' not found. The custom node
  may not be installed.", TITLE = ``_meta.title`` or the class type) with ``node_errors`` EMPTY: it is
  found before any node is validated. Only nodes upstream of an output node are validated; a bad one
  gives ``prompt_outputs_failed_validation`` (its ``details`` only list the output nodes' own errors, so
  usually "") with ``node_errors[id] = {"errors", "dependent_outputs", "class_type"}``: a model not
  installed is ``value_not_in_list`` ("Value not in list", "unet_name: 'x' not in [...]"); LoadImage's
  VALIDATE_INPUTS failing is ``custom_validation_failed``, details "image - Invalid image file: NAME".
  ``NAME [temp]`` / ``[input]`` / ``[output]`` pick the folder (annotated_filepath strips the tag and the
  space); a plain NAME is in the input folder.
- ``extra_data.preview_method`` ("auto", "latent2rgb", "taesd", "none"; anything else: the server's
  ``--preview-method``, whose default is "none") decides whether a sampler sends previews at all.
- Websocket ``/ws?clientId=``: ``{"type", "data"}`` text frames go to the prompt's client (the newest
  socket with that id; a socket that closes unregisters the id even when a newer one took it over).
  ``status`` ``{"status": {"exec_info": {"queue_remaining"}}}`` is broadcast when the queue changes
  (with ``sid`` on connect only). A run sends ``execution_start``, ``execution_cached``, per node
  ``progress_state`` then ``executing`` ``{node, display_node, prompt_id}``, per sampler step
  ``progress_state``, ``progress`` ``{value, max, prompt_id, node}`` and a binary frame
  ``>I 1, >I 1 (JPEG), JPEG`` (at most 512 px), ``executed`` ``{node, display_node, output, prompt_id}``,
  then one of ``execution_success`` / ``execution_error`` ``{prompt_id, node_id, node_type, executed,
  exception_message, exception_type, traceback, current_inputs, current_outputs}`` /
  ``execution_interrupted`` ``{prompt_id, node_id, node_type, executed}`` (these four and the first two
  carry ``timestamp``), then a ``status`` and ``executing`` ``{"node": null, "prompt_id"}``. The history
  entry is written after the final event (on ComfyUI's worker thread, so racing it) and before that
  ``executing``: a client should wait for the latter. Progress and previews of a prompt without
  ``client_id`` go to every socket. A client whose first message is ``{"type": "feature_flags", "data":
  {"supports_preview_metadata": true}}`` gets a ``feature_flags`` answer and previews as ``>I 4, >I len,
  metadata JSON, JPEG`` instead.
- An OOM is ``exception_type`` "torch.OutOfMemoryError" (``full_type_name`` of torch's error, as ComfyUI's
  issue reports show it), message ``f"{ex}\\n{tips}"`` with ComfyUI's OOM tips (``ex`` is "Allocation on
  device " under cudaMallocAsync, "CUDA out of memory. Tried to allocate ..." otherwise); other errors end
  in "\\n". ``GET /history/{id}`` is ``{id: {"prompt": [number, id, prompt, extra_data, outputs],
  "outputs": {node: {"images": [{"filename", "subfolder", "type"}]}}, "status": {"status_str", "completed",
  "messages": [[event, data], ...]}, "meta": {node: {"node_id", "display_node", "parent_node",
  "real_node_id"}}}}``; an interrupted prompt is recorded with status_str "error". ``GET /queue`` lists
  5-element items (``queue_pending`` in heap order, not sorted). ``POST /queue`` / ``POST /history``
  take ``{"delete": [ids]}`` or ``{"clear": true}``. ``POST /interrupt`` with ``{"prompt_id"}`` interrupts
  only if that prompt runs, without it whatever runs; 2024 servers ignored the body (``interrupt_by_id``).
  The interrupt lands at the next node or sampler step; a flag set while nothing runs is reset when the
  next prompt starts. PreviewImage writes ``ComfyUI_temp_XXXXX_00001_.png`` (XXXXX random per node,
  counter per file) to temp, SaveImage ``PREFIX_00001_.png`` to output. ``POST /upload/image``
  multipart ``image``, ``type`` (input | temp | output), ``subfolder``, ``overwrite`` ("true" | "1"),
  answers ``{"name", "subfolder", "type"}``, renaming to ``NAME (1).ext`` when other content has the name.
- Not modelled: node caching across prompts (``execution_cached`` is always empty), node input schemas,
  ``/object_info``, ``/view``'s ``preview`` and ``channel``, and the ``id`` / ``preview_id`` asset fields
  newer servers add to output images when the assets system is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import heapq
import io
import json
import mimetypes
import posixpath
import random
import re
import struct
import time
import uuid
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import aiohttp
from aiohttp import web
from PIL import Image, ImageFilter, ImageOps
from PIL.PngImagePlugin import PngInfo

from tests.fakes.painting import BACKGROUND as BACKGROUND  # re-exported: the tests compare with it
from tests.fakes.painting import PACKAGING, open_photo, paint
from tests.fakes.server import LocalServer

PREVIEW_IMAGE = 1
"""Binary event type of a preview (protocol.py ``BinaryEventTypes``); a format code follows (1 JPEG)."""
PREVIEW_IMAGE_WITH_METADATA = 4
JPEG = 1
DEFAULT_SIZE = (1024, 1024)
DEFAULT_STEPS = 20
PREVIEW_SIZE = 512  # --preview-size
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # --max-upload-size
OUTPUT_NODES = frozenset({"PreviewImage", "SaveImage"})
SAMPLERS = frozenset({"KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced"})
PREVIEW_METHODS = frozenset({"none", "auto", "latent2rgb", "taesd"})
FOLDERS = ("input", "temp", "output")
OOM_TYPE = "torch.OutOfMemoryError"
OOM_MESSAGE = (
    "Allocation on device \nThis error means you ran out of memory on your GPU.\n\nTIPS: If the workflow "
    "worked before you might have accidentally set the batch_size to a large number."
)
SENSITIVE_EXTRA_DATA_KEYS = ("auth_token_comfy_org", "api_key_comfy_org")
SERVER_FEATURES: dict[str, Any] = {
    "supports_preview_metadata": True,
    "supports_model_type_tags": True,
    "max_upload_size": MAX_UPLOAD_BYTES,
    "extension": {"manager": {"supports_v4": True}},
    "node_replacements": True,
    "assets": False,
}
_TEMP_LETTERS = "abcdefghijklmnopqrstupvxyz"  # sic: PreviewImage's alphabet
_TRACEBACK = [
    '  File "/ComfyUI/execution.py", line 527, in execute\n    output_data, output_ui, has_subgraph, '
    "has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, "
    "execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, v3_data=v3_data)\n",
    '  File "/ComfyUI/execution.py", line 331, in get_output_data\n    return_values = await '
    "_async_map_node_over_list(prompt_id, unique_id, obj, input_data_all, obj.FUNCTION, "
    "allow_interrupt=True, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, "
    "v3_data=v3_data)\n",
    '  File "/ComfyUI/comfy/samplers.py", line 1034, in sample\n    output = executor.execute(noise, '
    "latent_image, sampler, sigmas, denoise_mask, callback, disable_pbar, seed)\n",
]


@dataclass(frozen=True)
class Upload:
    """One ``POST /upload/image``: ``filename`` as sent, ``name`` as answered (``NAME (1).png``)."""

    filename: str
    type: str
    subfolder: str
    overwrite: bool
    content: bytes
    content_type: str | None
    name: str


@dataclass(frozen=True)
class QueuedPrompt:
    """One prompt accepted by ``POST /prompt``; ``extra_data`` is what the client sent."""

    prompt_id: str
    prompt: dict[str, Any]
    client_id: str | None
    extra_data: dict[str, Any]
    number: float


@dataclass(order=True)
class _Item:
    """A queue entry; it orders like ComfyUI's heap tuples, on ``(number, prompt_id)``."""

    number: float
    prompt_id: str
    prompt: dict[str, Any] = field(compare=False)
    extra_data: dict[str, Any] = field(compare=False)
    outputs: list[str] = field(compare=False)
    foreign: bool = field(default=False, compare=False)

    def wire(self) -> list[Any]:
        """The 5 elements ``/queue`` and the history show."""
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs]


class _Failure(NamedTuple):
    exception_type: str
    message: str  # the whole exception_message


@dataclass
class _Run:
    """The state of one executing prompt."""

    item: _Item
    client_id: str | None
    previews: bool
    failure: _Failure | None
    die_after: int | None
    messages: list[list[Any]] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps_done: int = 0
    photo: Image.Image | None = None
    picture: Image.Image | None = None
    preview_base: Image.Image | None = None


class _Interrupted(Exception):
    def __init__(self, node_id: str) -> None:
        super().__init__(node_id)
        self.node_id = node_id


class _NodeFailed(Exception):
    def __init__(self, node_id: str, failure: _Failure) -> None:
        super().__init__(failure.message)
        self.node_id = node_id
        self.failure = failure


class _Crashed(Exception):
    pass


class FakeComfyUI(LocalServer):
    """A local fake of a ComfyUI server: ``async with FakeComfyUI() as comfy``.

    Scripted failures (``out_of_memory_next``, ``fail_next``, ``die_after_step``) apply to the next of the
    clients' prompts to run, never to prompts of ``queue_foreign``.
    """

    def __init__(
        self,
        *,
        nodes: set[str] | None = None,
        require_token: str | None = None,
        interrupt_by_id: bool = True,
        step_delay: float = 0.0,
        preview_method: str = "none",
        history_delay: float = 0.0,
    ) -> None:
        """``nodes``: the installed class types (``None``: all but those ``remove_node`` removes);
        ``require_token``: answer 401 unless ``Authorization: Bearer <token>``, as a proxy would;
        ``interrupt_by_id``: False for a 2024 server whose ``/interrupt`` ignores the body;
        ``step_delay``: seconds each sampler step takes; ``preview_method``: the server's
        ``--preview-method``, used when a prompt's ``extra_data`` names none; ``history_delay``: seconds
        between the final event (``execution_success``...) and the history entry, which ComfyUI writes on
        its worker thread afterwards (after unloading the models with ``--disable-smart-memory``)."""
        self.nodes = set(nodes) if nodes is not None else None
        self.require_token = require_token
        self.interrupt_by_id = interrupt_by_id
        self.step_delay = step_delay
        self.preview_method = preview_method
        self.history_delay = history_delay
        self.uploads: list[Upload] = []
        self.prompts: list[QueuedPrompt] = []
        self.interrupts: list[Any] = []
        """The JSON body of each ``POST /interrupt`` (``None`` when it had none)."""
        self.queue_deletes: list[str] = []
        """The ids of every ``POST /queue`` ``delete``, in order."""
        self.history_deletes: list[str] = []
        """The ids of every ``POST /history`` ``delete``, in order."""
        self.authorizations: list[str | None] = []
        """The ``Authorization`` header of every HTTP request and websocket, ``None`` when absent."""
        self.previews_sent = 0
        """Binary preview frames delivered to a websocket."""
        self._removed_nodes: set[str] = set()
        self._missing_models: set[str] = set()
        self._failures: deque[_Failure] = deque()
        self._die_after: int | None = None
        self._held = False
        self._stalled = False
        self._crashed = False
        self._number = 0
        self._queue: list[_Item] = []
        self._running: _Item | None = None
        self._history: dict[str, dict[str, Any]] = {}
        self._files: dict[tuple[str, str], bytes] = {}
        self._temp_suffixes: dict[str, str] = {}
        self._interrupted = False
        self._client_id: str | None = None
        self._last_node_id: str | None = None
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._socket_requests: dict[web.WebSocketResponse, web.Request] = {}
        self._socket_flags: dict[str, dict[str, Any]] = {}
        self._change = asyncio.Event()
        self._closing = asyncio.Event()
        self._executor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        super().__init__()

    # -- observation ----------------------------------------------------------------------------------

    @property
    def running(self) -> str | None:
        """The prompt executing now (a client's or a foreign one)."""
        return self._running.prompt_id if self._running is not None else None

    @property
    def pending(self) -> list[str]:
        """The prompts waiting, in the order they will run."""
        return [item.prompt_id for item in sorted(self._queue)]

    @property
    def history(self) -> dict[str, dict[str, Any]]:
        """The history entries by prompt id, as ``GET /history/{id}`` shows them."""
        return self._history

    @property
    def temp_files(self) -> dict[str, bytes]:
        """The temp folder: ``subfolder/name`` (or ``name``) -> content."""
        return {path: data for (folder, path), data in self._files.items() if folder == "temp"}

    async def until_running(self, timeout: float = 10.0) -> str:
        """Wait until a client's prompt (not a foreign one) is executing; its prompt id."""
        async with asyncio.timeout(timeout):
            while self._running is None or self._running.foreign:
                await self._changed()
        return self._running.prompt_id

    # -- scripting ------------------------------------------------------------------------------------

    def remove_node(self, class_type: str) -> None:
        """Prompts using ``class_type`` are refused with ``missing_node_type``."""
        self._removed_nodes.add(class_type)

    def remove_model(self, filename: str) -> None:
        """A node input naming ``filename`` is refused with ``value_not_in_list``."""
        self._missing_models.add(filename)

    def out_of_memory_next(self) -> None:
        """The next prompt fails at its first sampler step with CUDA's out-of-memory error."""
        self._failures.append(_Failure(OOM_TYPE, OOM_MESSAGE))

    def fail_next(self, exception_type: str, message: str) -> None:
        """The next prompt fails at its first sampler step with ``exception_type``: ``message``."""
        self._failures.append(_Failure(exception_type, f"{message}\n"))

    def hold(self) -> None:
        """Start no prompt until ``release`` (one running goes on)."""
        self._held = True
        self._notify()

    def release(self) -> None:
        """Run the queue again after ``hold``."""
        self._held = False
        self._notify()

    def queue_foreign(self, n: int, *, steps: int = 3, front: bool = False) -> list[str]:
        """Queue ``n`` prompts of another client (no websocket), behind those waiting or, with ``front``,
        before them (``"front": true``); their prompt ids."""
        client_id = uuid.uuid4().hex
        ids = []
        for index in range(n):
            number = -self._number if front else self._number
            self._number += 1
            prompt = _foreign_prompt(seed=random.randrange(2**32), steps=steps, index=index)
            item = _Item(number, str(uuid.uuid4()), prompt, {"client_id": client_id}, ["9"], foreign=True)
            item.extra_data["create_time"] = _now_ms()
            heapq.heappush(self._queue, item)
            ids.append(item.prompt_id)
        self._notify()
        self._spawn(self._broadcast_status())
        return ids

    def stall(self) -> None:
        """From now on accept connections but answer no request and send nothing on any websocket."""
        self._stalled = True
        self._notify()

    def die_after_step(self, k: int) -> None:
        """Crash after sampler step ``k`` of the next prompt: websockets dropped, connections refused."""
        self._die_after = k

    # -- lifecycle ------------------------------------------------------------------------------------

    def application(self) -> web.Application:
        @web.middleware
        async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
            self.authorizations.append(request.headers.get("Authorization"))
            if self._stalled:
                await self._closing.wait()
                if request.transport is not None:
                    request.transport.abort()
                raise web.HTTPServiceUnavailable()
            if self.require_token is not None and (
                request.headers.get("Authorization") != f"Bearer {self.require_token}"
            ):
                return web.Response(
                    status=401, text="401: Unauthorized", headers={"WWW-Authenticate": "Bearer"}
                )
            return await handler(request)

        app = web.Application(client_max_size=MAX_UPLOAD_BYTES, middlewares=[gate])
        routes = [
            ("GET", "/ws", self._websocket),
            ("GET", "/prompt", self._get_prompt),
            ("POST", "/prompt", self._post_prompt),
            ("GET", "/queue", self._get_queue),
            ("POST", "/queue", self._post_queue),
            ("POST", "/interrupt", self._post_interrupt),
            ("GET", "/history", self._get_history),
            ("GET", "/history/{prompt_id}", self._get_history_entry),
            ("POST", "/history", self._post_history),
            ("POST", "/upload/image", self._upload_image),
            ("GET", "/view", self._view),
            ("GET", "/system_stats", self._system_stats),
            ("GET", "/features", self._features),
        ]
        for prefix in ("", "/api"):
            for method, path, handler in routes:
                app.router.add_route(method, prefix + path, handler)
        return app

    async def start(self) -> None:
        """Listen, and start the executor."""
        await super().start()
        self._executor = asyncio.create_task(self._execute_queue())

    async def close(self) -> None:
        """Stop the executor, close the websockets (dropped when stalled or crashed) and stop listening."""
        self._closing.set()
        tasks = [task for task in (self._executor, *self._tasks) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._stalled or self._crashed:
            self._drop_sockets()
        else:
            closing = [ws.close(code=aiohttp.WSCloseCode.GOING_AWAY) for ws in self._socket_requests]
            await asyncio.gather(*closing, return_exceptions=True)
        await super().close()

    # -- HTTP -----------------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=1.0)
        await ws.prepare(request)
        sid = request.query.get("clientId", "") or uuid.uuid4().hex
        self._sockets[sid] = ws
        self._socket_requests[ws] = request
        self._socket_flags[sid] = {}
        try:
            await self._send("status", {"status": self._queue_info(), "sid": sid}, sid)
            if self._client_id == sid and self._last_node_id is not None:
                await self._send("executing", {"node": self._last_node_id}, sid)
            first = True
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(message.data)
                except ValueError:
                    continue
                if first and isinstance(data, dict) and data.get("type") == "feature_flags":
                    flags = data.get("data", {})
                    self._socket_flags[sid] = flags if isinstance(flags, dict) else {}
                    await self._send("feature_flags", dict(SERVER_FEATURES), sid)
                first = False
        finally:
            self._sockets.pop(sid, None)  # Like ComfyUI, even when a newer socket has this id.
            self._socket_flags.pop(sid, None)
            self._socket_requests.pop(ws, None)
        return ws

    async def _get_prompt(self, request: web.Request) -> web.Response:
        return web.json_response(self._queue_info())

    async def _post_prompt(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "number" in body:
            number: float = float(body["number"])
        else:
            number = -self._number if body.get("front") else self._number
            self._number += 1
        if "prompt" not in body:
            error = _error("no_prompt", "No prompt provided", "No prompt provided")
            return web.json_response({"error": error, "node_errors": {}}, status=400)
        prompt = body["prompt"]
        client_prompt_id = body.get("prompt_id")
        if client_prompt_id is None:
            prompt_id = str(uuid.uuid4())
        elif _is_canonical_uuid(client_prompt_id):
            prompt_id = client_prompt_id
        else:
            error = _error(
                "invalid_prompt_id",
                "prompt_id must be a valid UUID",
                "prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the "
                "server generate one",
            )
            return web.json_response({"error": error, "node_errors": {}}, status=400)
        sent_extra = copy.deepcopy(body.get("extra_data", {}))
        valid, error, outputs, node_errors = self._validate(prompt, body.get("partial_execution_targets"))
        extra_data = body.get("extra_data", {})
        if "client_id" in body:
            extra_data["client_id"] = body["client_id"]
        if not valid:
            return web.json_response({"error": error, "node_errors": node_errors}, status=400)
        for key in SENSITIVE_EXTRA_DATA_KEYS:
            extra_data.pop(key, None)
        extra_data["create_time"] = _now_ms()
        self.prompts.append(
            QueuedPrompt(prompt_id, copy.deepcopy(prompt), body.get("client_id"), sent_extra, number)
        )
        heapq.heappush(self._queue, _Item(number, prompt_id, prompt, extra_data, outputs))
        self._notify()
        await self._broadcast_status()
        return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": node_errors})

    async def _get_queue(self, request: web.Request) -> web.Response:
        running = [self._running.wire()] if self._running is not None else []
        return web.json_response(
            {"queue_running": running, "queue_pending": [item.wire() for item in self._queue]}
        )

    async def _post_queue(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self._queue.clear()
            self._notify()
            await self._broadcast_status()
        for prompt_id in body.get("delete", []):
            self.queue_deletes.append(prompt_id)
            for index, item in enumerate(self._queue):
                if item.prompt_id == prompt_id:
                    self._queue.pop(index)
                    heapq.heapify(self._queue)
                    self._notify()
                    await self._broadcast_status()
                    break
        return web.Response()

    async def _post_interrupt(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.interrupts.append(body)
        if not self.interrupt_by_id:
            self._interrupted = True
            return web.Response()
        prompt_id = (body if body is not None else {}).get("prompt_id")
        if not prompt_id or (self._running is not None and self._running.prompt_id == prompt_id):
            self._interrupted = True
        return web.Response()

    async def _get_history(self, request: web.Request) -> web.Response:
        max_items = int(request.query["max_items"]) if "max_items" in request.query else None
        offset = int(request.query.get("offset", -1))
        if offset < 0 and max_items is not None:
            offset = len(self._history) - max_items
        ids = list(self._history)[max(offset, 0) :]
        if max_items is not None:
            ids = ids[:max_items]
        return web.json_response({prompt_id: self._history[prompt_id] for prompt_id in ids})

    async def _get_history_entry(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        entry = self._history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry is not None else {})

    async def _post_history(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self._history.clear()
        for prompt_id in body.get("delete", []):
            self.history_deletes.append(prompt_id)
            self._history.pop(prompt_id, None)
        return web.Response()

    async def _upload_image(self, request: web.Request) -> web.Response:
        post = await request.post()
        image = post.get("image")
        folder = str(post.get("type") or "input")
        if folder not in FOLDERS:
            raise web.HTTPInternalServerError()  # ComfyUI's get_dir_by_type fails on an unknown type.
        if not isinstance(image, web.FileField) or not image.filename:
            return web.Response(status=400)
        subfolder = str(post.get("subfolder", ""))
        filename = image.filename
        if _relative(subfolder, filename) is None:
            return web.Response(status=400)
        overwrite = post.get("overwrite") in ("true", "1")
        content = image.file.read()
        name, path = filename, str(_relative(subfolder, filename))
        stem, extension = posixpath.splitext(filename)
        counter = 1
        while not overwrite and (folder, path) in self._files and self._files[(folder, path)] != content:
            name = f"{stem} ({counter}){extension}"  # Other content has the name: ComfyUI renames.
            path = str(_relative(subfolder, name))
            counter += 1
        self._files[(folder, path)] = content
        self.uploads.append(Upload(filename, folder, subfolder, overwrite, content, image.content_type, name))
        return web.json_response({"name": name, "subfolder": subfolder, "type": folder})

    async def _view(self, request: web.Request) -> web.StreamResponse:
        if "filename" not in request.query:
            return web.Response(status=404)
        filename, folder = _annotated(request.query["filename"])
        if not filename:
            return web.Response(status=400)
        if filename[0] == "/" or ".." in filename:
            return web.Response(status=400)
        folder = folder or request.query.get("type", "output")
        if folder not in FOLDERS:
            return web.Response(status=400)
        subfolder = request.query.get("subfolder", "")
        path = _relative(subfolder, posixpath.basename(filename))
        if path is None:
            return web.Response(status=403)
        data = self._files.get((folder, path))
        if data is None:
            return web.Response(status=404)
        name = posixpath.basename(path)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        headers = {"Content-Disposition": f'filename="{name}"', "X-Content-Type-Options": "nosniff"}
        return web.Response(body=data, content_type=content_type, headers=headers)

    async def _system_stats(self, request: web.Request) -> web.Response:
        gib = 1024**3
        device = {
            "name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
            "type": "cuda",
            "index": 0,
            "vram_total": 24 * gib,
            "vram_free": 20 * gib,
            "torch_vram_total": 2 * gib,
            "torch_vram_free": gib,
        }
        system = {
            "os": "linux",
            "ram_total": 64 * gib,
            "ram_free": 48 * gib,
            "comfyui_version": "0.3.75",
            "python_version": "3.12.10",
            "pytorch_version": "2.8.0+cu128",
            "embedded_python": False,
            "argv": ["main.py"],
        }
        return web.json_response({"system": system, "devices": [device]})

    async def _features(self, request: web.Request) -> web.Response:
        return web.json_response(SERVER_FEATURES)

    # -- validation -----------------------------------------------------------------------------------

    def _installed(self, class_type: str) -> bool:
        if class_type in self._removed_nodes:
            return False
        return self.nodes is None or class_type in self.nodes

    def _validate(
        self, prompt: dict[str, Any], partial: list[str] | None
    ) -> tuple[bool, dict[str, Any] | None, list[str], dict[str, Any]]:
        """ComfyUI's ``validate_prompt``: (valid, error, outputs to execute, node errors)."""
        outputs = []
        for node_id, node in prompt.items():
            if not isinstance(node, dict) or "class_type" not in node:
                title = node.get("_meta", {}).get("title") if isinstance(node, dict) else None
                message = (
                    f"Node '{title or f'ID #{node_id}'}' has no class_type. The workflow may be corrupted or "
                    "a custom node is missing."
                )
                extra = {"node_id": node_id, "class_type": None, "node_title": title}
                return False, _error("missing_node_type", message, f"Node ID '#{node_id}'", extra), [], {}
            class_type = node["class_type"]
            if not self._installed(class_type):
                title = node.get("_meta", {}).get("title", class_type)
                message = f"Node '{title}' not found. The custom node may not be installed."
                extra = {"node_id": node_id, "class_type": class_type, "node_title": title}
                return False, _error("missing_node_type", message, f"Node ID '#{node_id}'", extra), [], {}
            if class_type in OUTPUT_NODES and (partial is None or node_id in partial):
                outputs.append(node_id)
        if not outputs:
            return False, _error("prompt_no_outputs", "Prompt has no outputs", ""), [], {}
        good: list[str] = []
        failed: list[tuple[str, list[dict[str, Any]]]] = []
        node_errors: dict[str, Any] = {}
        validated: dict[str, tuple[bool, list[dict[str, Any]]]] = {}
        for output in outputs:
            try:
                valid, reasons = self._validate_node(prompt, output, validated, [])
            except Exception as error:
                reasons = [
                    _error(
                        "exception_during_validation",
                        "Exception when validating node",
                        str(error),
                        {"exception_type": type(error).__qualname__, "traceback": []},
                    )
                ]
                valid = False
                validated[output] = (False, reasons)
            if valid:
                good.append(output)
                continue
            failed.append((output, reasons))
            for node_id, (ok, node_reasons) in validated.items():
                if not ok and node_reasons:
                    entry = node_errors.setdefault(
                        node_id,
                        {
                            "errors": node_reasons,
                            "dependent_outputs": [],
                            "class_type": prompt[node_id]["class_type"],
                        },
                    )
                    entry["dependent_outputs"].append(output)
        if not good:
            details = "\n".join(f"{r['message']}: {r['details']}" for _, reasons in failed for r in reasons)
            error = _error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details)
            return False, error, [], node_errors
        return True, None, good, node_errors

    def _validate_node(
        self,
        prompt: dict[str, Any],
        node_id: str,
        validated: dict[str, tuple[bool, list[dict[str, Any]]]],
        visiting: list[str],
    ) -> tuple[bool, list[dict[str, Any]]]:
        """ComfyUI's ``validate_inputs`` for what the fake knows: links, model names and LoadImage."""
        if node_id in validated:
            return validated[node_id]
        if node_id in visiting:
            cycle = [*visiting[visiting.index(node_id) :], node_id]
            details = " -> ".join(f"{n} ({prompt[n]['class_type']})" for n in cycle)
            extra = {"node_id": node_id, "cycle_nodes": list(dict.fromkeys(cycle))}
            result = (False, [_error("dependency_cycle", "Dependency cycle detected", details, extra)])
            validated[node_id] = result
            return result
        node = prompt[node_id]
        errors = []
        valid = True
        for name, value in _inputs(node).items():
            if isinstance(value, list):
                if len(value) != 2:
                    details = "Bad linked input, must be a length-2 list of [node_id, slot_index]"
                    errors.append(
                        _error(
                            "bad_linked_input", details, name, {"input_name": name, "received_value": value}
                        )
                    )
                    continue
                source = value[0]
                if not isinstance(source, str) or source not in prompt:
                    raise KeyError(source)  # ComfyUI's prompt[o_id]: "exception_during_validation".
                visiting.append(node_id)
                try:
                    ok, _ = self._validate_node(prompt, source, validated, visiting)
                finally:
                    visiting.pop()
                valid = valid and ok
            elif isinstance(value, str) and value in self._missing_models:
                extra = {"input_name": name, "input_config": [[], {}], "received_value": value}
                errors.append(
                    _error("value_not_in_list", "Value not in list", f"{name}: {value!r} not in []", extra)
                )
        image = _inputs(node).get("image")
        if (
            node["class_type"] == "LoadImage"
            and isinstance(image, str)
            and self._annotated_file(image) is None
        ):
            details = f"image - Invalid image file: {image}"
            errors.append(
                _error(
                    "custom_validation_failed",
                    "Custom validation failed for node",
                    details,
                    {"input_name": "image"},
                )
            )
        result = (valid and not errors, errors)
        validated[node_id] = result
        return result

    def _annotated_file(self, name: str) -> bytes | None:
        """The file ``NAME [temp]`` (or a plain input-folder NAME) names, as LoadImage finds it."""
        path, folder = _annotated(name)
        relative = _relative("", path)
        return self._files.get((folder or "input", relative)) if relative is not None else None

    # -- execution ------------------------------------------------------------------------------------

    async def _execute_queue(self) -> None:
        while True:
            while self._held or self._stalled or not self._queue:
                await self._changed()
            item = heapq.heappop(self._queue)
            # ComfyUI resets the interrupt flag when execution starts, a moment after the prompt shows as
            # running; resetting it here closes that window: an interrupt aimed at it is never lost.
            self._interrupted = False
            self._running = copy.deepcopy(item)
            self._notify()
            await self._broadcast_status()
            try:
                await self._execute(self._running)
            except _Crashed:
                self._running = None
                self._notify()
                return

    async def _execute(self, item: _Item) -> None:
        client_id = item.extra_data.get("client_id")
        method = item.extra_data.get("preview_method")
        run = _Run(
            item,
            client_id,
            previews=(method if method in PREVIEW_METHODS else self.preview_method) != "none",
            failure=None if item.foreign or not self._failures else self._failures.popleft(),
            die_after=None if item.foreign else self._die_after,
        )
        if not item.foreign:
            self._die_after = None
        self._client_id = client_id
        prompt_id = item.prompt_id
        await self._add_message(run, "execution_start", {"prompt_id": prompt_id})
        await self._add_message(run, "execution_cached", {"nodes": [], "prompt_id": prompt_id})
        success = False
        try:
            for node_id in _execution_order(item.prompt, item.outputs):
                await self._execute_node(run, node_id)
            success = True
            await self._add_message(run, "execution_success", {"prompt_id": prompt_id})
        except _Interrupted as stop:
            data = {
                "prompt_id": prompt_id,
                "node_id": stop.node_id,
                "node_type": item.prompt[stop.node_id]["class_type"],
                "executed": list(run.executed),
            }
            await self._add_message(run, "execution_interrupted", data, broadcast=True)
        except _NodeFailed as failed:
            node = item.prompt[failed.node_id]
            data = {
                "prompt_id": prompt_id,
                "node_id": failed.node_id,
                "node_type": node["class_type"],
                "executed": list(run.executed),
                "exception_message": failed.failure.message,
                "exception_type": failed.failure.exception_type,
                "traceback": list(_TRACEBACK),
                "current_inputs": _formatted_inputs(node),
                "current_outputs": [],
            }
            await self._add_message(run, "execution_error", data)
        if self.history_delay:
            await asyncio.sleep(self.history_delay)
        self._last_node_id = None
        self._history[prompt_id] = {
            "prompt": item.wire(),
            "outputs": run.outputs,
            "status": {
                "status_str": "success" if success else "error",
                "completed": success,
                "messages": run.messages,
            },
            "meta": run.meta,
        }
        self._running = None
        self._notify()
        await self._broadcast_status()
        if client_id is not None:
            await self._send("executing", {"node": None, "prompt_id": prompt_id}, client_id)

    async def _execute_node(self, run: _Run, node_id: str) -> None:
        await self._freeze_if_stalled()
        node = run.item.prompt[node_id]
        class_type = node["class_type"]
        await self._progress_state(run, node_id, "running", 0.0, 1.0)
        if run.client_id is not None:
            self._last_node_id = node_id
            data = {"node": node_id, "display_node": node_id, "prompt_id": run.item.prompt_id}
            await self._send("executing", data, run.client_id)
        if self._interrupted:
            raise _Interrupted(node_id)
        await asyncio.sleep(0)
        if class_type == "LoadImage":
            run.photo = self._load_photo(node_id, node)
        if _is_sampler(class_type):
            await self._sample(run, node_id, _steps_of(node, run.item.prompt))
        if class_type in OUTPUT_NODES:
            if run.failure is not None:  # A prompt without a sampler fails at its output.
                raise _NodeFailed(node_id, run.failure)
            await self._save(run, node_id, node)
        done = run.states[node_id]["max"]
        await self._progress_state(run, node_id, "finished", done, done)
        run.executed.append(node_id)

    async def _sample(self, run: _Run, node_id: str, steps: int) -> None:
        prompt_id = run.item.prompt_id
        for step in range(1, steps + 1):
            await asyncio.sleep(self.step_delay)
            await self._freeze_if_stalled()
            if run.failure is not None:
                raise _NodeFailed(node_id, run.failure)
            if self._interrupted:
                raise _Interrupted(node_id)
            run.steps_done += 1
            await self._progress_state(run, node_id, "running", step, steps)
            preview = self._preview(run, step, steps) if run.previews else None
            with_metadata = (
                self._socket_flags.get(run.client_id or "", {}).get("supports_preview_metadata") is True
            )
            if preview is not None and with_metadata:
                metadata = {
                    "node_id": node_id,
                    "prompt_id": prompt_id,
                    "display_node_id": node_id,
                    "parent_node_id": None,
                    "real_node_id": node_id,
                    "image_type": "image/jpeg",
                }
                encoded = json.dumps(metadata).encode()
                frame = struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(encoded)) + encoded + preview
                self.previews_sent += await self._send_bytes(frame, run.client_id)
            progress = {"value": step, "max": steps, "prompt_id": prompt_id, "node": node_id}
            await self._send("progress", progress, run.client_id)
            if preview is not None and not with_metadata:
                frame = struct.pack(">II", PREVIEW_IMAGE, JPEG) + preview
                self.previews_sent += await self._send_bytes(frame, run.client_id)
            if run.die_after == run.steps_done:
                await self._crash()
                raise _Crashed()

    async def _save(self, run: _Run, node_id: str, node: dict[str, Any]) -> None:
        """PreviewImage / SaveImage: write the picture, send ``executed``."""
        if node["class_type"] == "PreviewImage":
            suffix = self._temp_suffixes.setdefault(node_id, "".join(random.choices(_TEMP_LETTERS, k=5)))
            folder, prefix, compress = "temp", f"ComfyUI_temp_{suffix}", 1
        else:
            folder, prefix, compress = "output", str(_inputs(node).get("filename_prefix", "ComfyUI")), 4
        subfolder, base = posixpath.split(prefix)
        pattern = re.compile(re.escape(posixpath.join(subfolder, base)) + r"_(\d+)_\.png")
        counters = [int(m[1]) for f, path in self._files if f == folder and (m := pattern.fullmatch(path))]
        filename = f"{base}_{max(counters, default=0) + 1:05}_.png"
        info = PngInfo()
        info.add_text("prompt", json.dumps(run.item.prompt))
        for key, value in (run.item.extra_data.get("extra_pnginfo") or {}).items():
            info.add_text(key, json.dumps(value))
        buffer = io.BytesIO()
        self._picture(run).save(buffer, "PNG", pnginfo=info, compress_level=compress)
        self._files[(folder, posixpath.join(subfolder, filename))] = buffer.getvalue()
        ui = {"images": [{"filename": filename, "subfolder": subfolder, "type": folder}]}
        run.outputs[node_id] = ui
        run.meta[node_id] = {
            "node_id": node_id,
            "display_node": node_id,
            "parent_node": None,
            "real_node_id": node_id,
        }
        if run.client_id is not None:
            data = {"node": node_id, "display_node": node_id, "output": ui, "prompt_id": run.item.prompt_id}
            await self._send("executed", data, run.client_id)

    def _load_photo(self, node_id: str, node: dict[str, Any]) -> Image.Image:
        """LoadImage: the uploaded photo; a file Pillow cannot read fails the node as in ComfyUI."""
        name = str(_inputs(node).get("image", ""))
        photo = open_photo(self._annotated_file(name))
        if photo is None:
            path, folder = _annotated(name)
            message = f"cannot identify image file '/ComfyUI/{folder or 'input'}/{path}'\n"
            raise _NodeFailed(node_id, _Failure("PIL.UnidentifiedImageError", message))
        return photo

    def _picture(self, run: _Run) -> Image.Image:
        """What the prompt paints: a toy figure on a plain background, or its box when packaging is asked."""
        if run.picture is None:
            prompt = run.item.prompt
            photo = run.photo
            if photo is None:
                images = [
                    _inputs(n).get("image") for n in prompt.values() if n.get("class_type") == "LoadImage"
                ]
                photo = (
                    open_photo(self._annotated_file(images[0]))
                    if images and isinstance(images[0], str)
                    else None
                )
            whole_box = PACKAGING in _text_of(prompt)
            run.picture = paint(_size_of(prompt), photo, _seed_of(prompt), whole_box=whole_box)
        return run.picture

    def _preview(self, run: _Run, step: int, steps: int) -> bytes:
        """The JPEG of step ``step``: the picture, blurred less at each step, at most ``PREVIEW_SIZE``."""
        if run.preview_base is None:
            run.preview_base = ImageOps.contain(self._picture(run), (PREVIEW_SIZE, PREVIEW_SIZE))
        radius = 16 * (steps - step) / steps
        image = run.preview_base.filter(ImageFilter.BoxBlur(radius)) if radius > 0 else run.preview_base
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=95)
        return buffer.getvalue()

    async def _progress_state(
        self, run: _Run, node_id: str, state: str, value: float, maximum: float
    ) -> None:
        prompt_id = run.item.prompt_id
        run.states[node_id] = {
            "value": value,
            "max": maximum,
            "state": state,
            "node_id": node_id,
            "prompt_id": prompt_id,
            "display_node_id": node_id,
            "parent_node_id": None,
            "real_node_id": node_id,
        }
        await self._send(
            "progress_state", {"prompt_id": prompt_id, "nodes": copy.deepcopy(run.states)}, run.client_id
        )

    async def _add_message(
        self, run: _Run, event: str, data: dict[str, Any], *, broadcast: bool = False
    ) -> None:
        """ComfyUI's ``PromptExecutor.add_message``: timestamped, kept for the history, sent to the client."""
        data = {**data, "timestamp": _now_ms()}
        run.messages.append([event, data])
        if run.client_id is not None or broadcast:
            await self._send(event, data, run.client_id)

    async def _freeze_if_stalled(self) -> None:
        if self._stalled:
            await self._closing.wait()

    async def _crash(self) -> None:
        """Die: stop listening and drop every connection and websocket without a word."""
        self._crashed = True
        runner = self._runner
        if runner is not None:
            for site in list(runner.sites):
                await site.stop()
            if runner.server is not None:
                for handler in runner.server.connections:
                    if handler.transport is not None:
                        handler.transport.abort()
        self._drop_sockets()

    def _drop_sockets(self) -> None:
        for request in list(self._socket_requests.values()):
            if request.transport is not None:
                request.transport.abort()
        self._sockets.clear()

    # -- websocket sending ----------------------------------------------------------------------------

    def _queue_info(self) -> dict[str, Any]:
        remaining = len(self._queue) + (1 if self._running is not None else 0)
        return {"exec_info": {"queue_remaining": remaining}}

    async def _broadcast_status(self) -> None:
        await self._send("status", {"status": self._queue_info()}, None)

    def _targets(self, sid: str | None) -> list[web.WebSocketResponse]:
        if self._stalled or self._crashed:
            return []
        if sid is None:
            return list(self._sockets.values())
        return [self._sockets[sid]] if sid in self._sockets else []

    async def _send(self, event: str, data: dict[str, Any], sid: str | None) -> None:
        """A JSON message to client ``sid``, or to every socket when ``sid`` is ``None``."""
        for ws in self._targets(sid):
            with contextlib.suppress(ConnectionError, RuntimeError, aiohttp.ClientError):
                await ws.send_json({"type": event, "data": data})  # ComfyUI logs a send error, goes on.

    async def _send_bytes(self, frame: bytes, sid: str | None) -> int:
        """A binary frame to client ``sid`` (every socket for ``None``); how many sockets got it."""
        sent = 0
        for ws in self._targets(sid):
            try:
                await ws.send_bytes(frame)
                sent += 1
            except (ConnectionError, RuntimeError, aiohttp.ClientError):
                pass
        return sent

    # -- plumbing -------------------------------------------------------------------------------------

    async def _changed(self) -> None:
        await self._change.wait()

    def _notify(self) -> None:
        self._change.set()
        self._change = asyncio.Event()

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


# -- prompts ------------------------------------------------------------------------------------------


def _error(
    type_: str, message: str, details: str, extra_info: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"type": type_, "message": message, "details": details, "extra_info": extra_info or {}}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _is_canonical_uuid(value: Any) -> bool:
    """ComfyUI's ``validate_job_id``: a lowercase hyphenated UUID string."""
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _annotated(name: str) -> tuple[str, str | None]:
    """ComfyUI's ``annotated_filepath``: ``NAME [temp]`` -> ``(NAME, "temp")``; the tag and one character
    before it (the space) go."""
    for folder in ("output", "input", "temp"):
        tag = f"[{folder}]"
        if name.endswith(tag):
            return name[: -len(tag) - 1], folder
    return name, None


def _relative(subfolder: str, name: str) -> str | None:
    """``subfolder/name`` normalised, or ``None`` when it leaves the folder."""
    path = posixpath.normpath(posixpath.join(subfolder, name))
    return None if path.startswith("/") or path == ".." or path.startswith("../") else path


def _inputs(node: dict[str, Any]) -> dict[str, Any]:
    inputs = node.get("inputs")
    return inputs if isinstance(inputs, dict) else {}


def _is_sampler(class_type: str) -> bool:
    return class_type in SAMPLERS or (
        "Sampler" in class_type and not class_type.endswith(("Select", "Selector"))
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _steps_of(node: dict[str, Any], prompt: dict[str, Any]) -> int:
    """The sampler's ``steps``, else the first node's (a scheduler's), else ``DEFAULT_STEPS``."""
    for candidate in (node, *prompt.values()):
        steps = _inputs(candidate).get("steps")
        if _is_int(steps) and steps > 0:
            return int(steps)
    return DEFAULT_STEPS


def _size_of(prompt: dict[str, Any]) -> tuple[int, int]:
    for node in prompt.values():
        inputs = _inputs(node)
        width, height = inputs.get("width"), inputs.get("height")
        if _is_int(width) and _is_int(height) and width > 0 and height > 0:
            return int(width), int(height)
    return DEFAULT_SIZE


def _seed_of(prompt: dict[str, Any]) -> int:
    for node in prompt.values():
        for name in ("seed", "noise_seed"):
            seed = _inputs(node).get(name)
            if _is_int(seed):
                return int(seed)
    return 0


def _text_of(prompt: dict[str, Any]) -> str:
    """Every string input of the text-encoding nodes."""
    return "\n".join(
        value
        for node in prompt.values()
        if "TextEncode" in str(node.get("class_type", ""))
        for value in _inputs(node).values()
        if isinstance(value, str)
    )


def _execution_order(prompt: dict[str, Any], outputs: list[str]) -> list[str]:
    """The nodes the outputs need, each after the nodes it takes inputs from."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(node_id: str) -> None:
        if node_id in seen:
            return
        seen.add(node_id)
        for value in _inputs(prompt[node_id]).values():
            if isinstance(value, list) and len(value) == 2 and value[0] in prompt:
                visit(value[0])
        order.append(node_id)

    for output in outputs:
        visit(output)
    return order


def _formatted_inputs(node: dict[str, Any]) -> dict[str, list[Any]]:
    """``current_inputs`` of an ``execution_error``: widget values as they are, links as objects."""
    formatted: dict[str, list[Any]] = {}
    for name, value in _inputs(node).items():
        if isinstance(value, list):
            formatted[name] = [f"<output {value[1] if len(value) > 1 else 0} of node {value[0]}>"]
        elif value is None or isinstance(value, int | float | bool | str):
            formatted[name] = [value]
        else:
            formatted[name] = [str(value)]
    return formatted


def _foreign_prompt(*, seed: int, steps: int, index: int) -> dict[str, Any]:
    """What another client of the server might queue: a plain text-to-image prompt."""
    return {
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": f"a lighthouse at dusk #{index}"}},
        "3": {
            "class_type": "KSampler",
            "inputs": {"seed": seed, "steps": steps, "positive": ["6", 0], "latent_image": ["5", 0]},
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "ComfyUI"}},
    }
