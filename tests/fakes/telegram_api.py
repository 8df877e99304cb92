"""A fake Telegram Bot API on 127.0.0.1 for tests that run the real python-telegram-bot against it.

People are played by injecting updates (``send_photo``, ``send_document``, ``send_text``, ``press`` …);
the bot fetches them with ``getUpdates`` (long polling that honours ``offset``), or they are pushed to
its webhook once it set one. Every call the bot makes is recorded in ``calls``; the messages of every
chat, as they are after edits and deletions, in ``messages``. Files the bot may download are served
under ``/file/bot<token>/``. Users the fake has seen are members of every group (``getChatMember``);
``make_admin`` promotes one. ``fail_next`` answers a method with 429 and ``retry_after``, or another
error status (400 with ``migrate_to``: the group moved to a new id); ``answer_late`` carries out a call at
once but answers it later::

    async with FakeTelegram() as api:
        settings = settings_for(..., telegram_bot_token=TOKEN, telegram_api_base_url=api.base_url,
                                telegram_file_base_url=api.file_base_url)
        ann = api.user(1001, "Ann")
        api.send_photo(ann, PHOTO, caption="Alex | astronaut")
        figure = await api.wait_for(lambda call: call.method == "sendPhoto")
"""

from __future__ import annotations

import asyncio
import copy
import io
import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image

from tests.fakes.server import MAX_REQUEST_BYTES, LocalServer

TOKEN = "123456789:AAFakeTokenOfTheFakeBotApiForTests_0123"
BOT_ID = 123456789
BOT_USERNAME = "figure_test_bot"
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # what the real Bot API lets bots download
# Parameters that arrive JSON-encoded in the form data.
_JSON_PARAMETERS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "media",
        "commands",
        "allowed_updates",
        "entities",
        "caption_entities",
    }
)
# What a ChatMemberAdministrator must carry (all false here: being one is what counts).
_ADMIN_FLAGS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
_TEXT_PARAMETERS = frozenset({"text", "caption", "secret_token", "url"})
_ENTITY = re.compile(r"(?P<command>\A/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?)|(?P<mention>@[A-Za-z0-9_]{5,32})")


@dataclass
class Call:
    """One request the bot made: the method, its parameters, the files it uploaded, and the answer."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = 0.0  # time.monotonic() when it arrived
    ok: bool = True
    result: Any = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline buttons of the ``reply_markup`` it sent, row after row."""
        markup = self.params.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_of(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` (at the start) and ``mention`` entities Telegram would mark in ``text``."""
    entities = []
    for match in _ENTITY.finditer(text):
        kind = "bot_command" if match["command"] else "mention"
        offset = _utf16_length(text[: match.start()])
        entities.append({"type": kind, "offset": offset, "length": _utf16_length(match[0])})
    return entities


def _value(key: str, value: str) -> Any:
    """A form field as the Bot API reads it: JSON objects, numbers for ids, booleans; text stays text."""
    if key in _JSON_PARAMETERS:
        return json.loads(value)
    if (key.endswith("_id") or key in ("offset", "limit", "timeout")) and re.fullmatch(r"-?\d+", value):
        return int(value)
    if key not in _TEXT_PARAMETERS and value in ("true", "false"):
        return value == "true"
    return value


class FakeTelegram(LocalServer):
    """The Bot API of one bot, with users and chats made up by the test."""

    def __init__(self, username: str = BOT_USERNAME) -> None:
        self.bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Figure Bot", "username": username}
        self.calls: list[Call] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.admins: dict[tuple[int, int], str] = {}  # (chat, user) → "creator" or "administrator"
        self.deleted: set[tuple[int, int]] = set()
        self.webhook: dict[str, Any] | None = None
        self.webhook_answers: list[int] = []  # HTTP status of each update pushed to the webhook
        self._updates: list[dict[str, Any]] = []
        self._given: dict[int, dict[str, Any]] = {}  # every update ever queued, by id
        self.handed_out: list[int] = []  # update ids in the order getUpdates returned them
        self._holds: dict[str, asyncio.Event] = {}  # method (or "file") → released when set
        self.held: list[str] = []  # calls that are waiting in a hold
        self._update_ids = itertools.count(1)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._files: dict[str, tuple[bytes | None, int]] = {}
        self._failures: defaultdict[str, deque[tuple[int, int, int | None]]] = defaultdict(deque)
        self._late: list[tuple[str, int | None, float]] = []  # method, chat (None: any), seconds
        self._changed = asyncio.Condition()
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        super().__init__()

    # Running

    @property
    def base_url(self) -> str:
        """``TELEGRAM_API_BASE_URL`` for the bot (the token is appended)."""
        return f"{self.origin}/bot"

    @property
    def file_base_url(self) -> str:
        """``TELEGRAM_FILE_BASE_URL`` for the bot."""
        return f"{self.origin}/file/bot"

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        return app

    async def close(self) -> None:
        self._closing = True
        for gate in self._holds.values():
            gate.set()
        async with self._changed:
            self._changed.notify_all()
        for push in list(self._tasks):
            push.cancel()
        await super().close()

    # Scripting the service

    def fail_next(
        self,
        method: str,
        retry_after: int = 1,
        times: int = 1,
        status: int = 429,
        migrate_to: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 Too Many Requests (or ``status``; with
        ``migrate_to``, 400 saying that the group is now the supergroup of that id)."""
        status = 400 if migrate_to is not None else status
        self._failures[method].extend([(status, retry_after, migrate_to)] * times)

    def hold(self, method: str) -> None:
        """From now on, calls of ``method`` (``"file"``: downloads) wait without being carried out or
        answered, as if stuck on the way, until ``release``; a held call whose caller is gone by then
        (its process was killed) is dropped, never carried out."""
        self._holds.setdefault(method, asyncio.Event())

    def release(self, method: str) -> None:
        """Let held and later calls of ``method`` through."""
        gate = self._holds.pop(method, None)
        if gate is not None:
            gate.set()

    async def wait_for_hold(self, method: str, timeout: float = 30.0) -> None:
        """Until a call of ``method`` is waiting in its hold."""
        await self.until(lambda: True if method in self.held else None, timeout)

    async def _pass_hold(self, method: str, request: web.Request) -> bool:
        """Wait out a hold on ``method``; whether the caller is still there to be answered."""
        gate = self._holds.get(method)
        if gate is None:
            return True
        self.held.append(method)
        self._notify()
        await gate.wait()
        transport = request.transport
        return transport is not None and not transport.is_closing()

    @property
    def last_update_id(self) -> int:
        """The id of the newest update queued for the bot."""
        return max(self._given)

    def redeliver(self, update_id: int) -> None:
        """Hand the bot again an update it was given before, with the same ``update_id``, as Telegram does
        when the confirmation of it was lost."""
        self._hand_over(copy.deepcopy(self._given[update_id]))

    def answer_late(self, method: str, seconds: float, chat_id: int | None = None) -> None:
        """Carry out the next call of ``method`` (to ``chat_id``, when given) at once, but answer it only
        ``seconds`` later, as a slow Telegram would."""
        self._late.append((method, chat_id, seconds))

    def add_file(self, data: bytes | None, size: int | None = None) -> str:
        """A file the bot may download; ``size`` is what Telegram reports (``data`` may then be None)."""
        file_id = f"file-{next(self._file_ids)}"
        self._files[file_id] = (data, len(data or b"") if size is None else size)
        return file_id

    # People and chats

    @staticmethod
    def user(user_id: int, first_name: str = "Ann", username: str | None = None) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        return {**user, "username": username} if username else user

    def make_admin(self, chat: dict[str, Any], user: dict[str, Any], status: str = "administrator") -> None:
        """``user`` becomes an administrator (or with ``status="creator"``, the owner) of ``chat``."""
        self.admins[chat["id"], user["id"]] = status

    @staticmethod
    def private(user: dict[str, Any]) -> dict[str, Any]:
        return {"id": user["id"], "type": "private", "first_name": user["first_name"]}

    @staticmethod
    def group(chat_id: int = -1001234567890, title: str = "Figure fans") -> dict[str, Any]:
        return {"id": chat_id, "type": "supergroup", "title": title}

    @staticmethod
    def channel(chat_id: int = -1009876543210, title: str = "Figure news") -> dict[str, Any]:
        """A channel, on whose behalf its admins may post in groups (``sender_chat``)."""
        return {"id": chat_id, "type": "channel", "title": title}

    def send_text(
        self,
        user: dict[str, Any],
        text: str,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
        sender_chat: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A text message; with ``sender_chat``, sent on behalf of that chat (an anonymous admin)."""
        content = {"text": text, "entities": entities_of(text), "sender_chat": sender_chat}
        return self._from_user(user, chat, reply_to, **content)

    def send_photo(
        self,
        user: dict[str, Any],
        data: bytes,
        caption: str | None = None,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
        media_group_id: str | None = None,
        sender_chat: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A compressed photo, in Telegram's sizes (a thumbnail and the photo itself); with
        ``sender_chat``, posted on behalf of that chat."""
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        sizes = [self._photo_size(data, width, height, thumbnail=True), self._photo_size(data, width, height)]
        content: dict[str, Any] = {"photo": sizes, "sender_chat": sender_chat}
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self._from_user(user, chat, reply_to, **content, **self._caption(caption))

    def send_other(
        self, user: dict[str, Any], chat: dict[str, Any] | None = None, **content: Any
    ) -> dict[str, Any]:
        """Any other message, its content as Telegram words it: ``location={…}``, ``contact={…}``…"""
        return self._from_user(user, chat, None, **content)

    def send_document(
        self,
        user: dict[str, Any],
        data: bytes | None,
        file_name: str = "photo.jpg",
        mime_type: str | None = "image/jpeg",
        caption: str | None = None,
        chat: dict[str, Any] | None = None,
        size: int | None = None,
    ) -> dict[str, Any]:
        """A file; ``size`` overrides the reported size (e.g. a huge file with no bytes behind it)."""
        file_id = self.add_file(data, size)
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": file_name,
            "file_size": self._files[file_id][1],
        }
        if mime_type:
            document["mime_type"] = mime_type
        return self._from_user(user, chat, None, document=document, **self._caption(caption))

    def send_sticker(self, user: dict[str, Any], chat: dict[str, Any] | None = None) -> dict[str, Any]:
        file_id = self.add_file(b"RIFF-sticker")
        sticker = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self._from_user(user, chat, None, sticker=sticker)

    def send_video(self, user: dict[str, Any], chat: dict[str, Any] | None = None) -> dict[str, Any]:
        file_id = self.add_file(b"\x00\x00\x00\x18ftypmp42")
        video = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "width": 640,
            "height": 360,
            "duration": 3,
        }
        return self._from_user(user, chat, None, video=video)

    def press(self, user: dict[str, Any], message: dict[str, Any], data: str) -> str:
        """``user`` presses a button with ``data`` under ``message`` (as the chat shows it now)."""
        query_id = f"query-{next(self._query_ids)}"
        current = self.messages.get((message["chat"]["id"], message["message_id"]), message)
        self.users[user["id"]] = user
        query = {"id": query_id, "from": user, "chat_instance": "1", "data": data, "message": current}
        self._queue({"callback_query": query})
        return query_id

    def _photo_size(self, data: bytes, width: int, height: int, thumbnail: bool = False) -> dict[str, Any]:
        scale = min(1.0, 90 / max(width, height)) if thumbnail else 1.0
        file_id = self.add_file(data)
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "width": max(1, round(width * scale)),
            "height": max(1, round(height * scale)),
            "file_size": len(data),
        }

    @staticmethod
    def _caption(caption: str | None) -> dict[str, Any]:
        return {"caption": caption, "caption_entities": entities_of(caption)} if caption else {}

    def _from_user(
        self,
        user: dict[str, Any],
        chat: dict[str, Any] | None,
        reply_to: dict[str, Any] | None,
        **content: Any,
    ) -> dict[str, Any]:
        chat = chat or self.private(user)
        self.chats[chat["id"]] = chat
        self.users[user["id"]] = user
        message = self._message(chat, user, reply_to, content)
        self._queue({"message": message})
        return message

    def _message(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any],
        reply_to: dict[str, Any] | None,
        content: dict[str, Any],
    ) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids[chat["id"]]),
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            **{key: value for key, value in content.items() if value is not None},
        }
        if reply_to is not None:
            replied = self.messages.get((reply_to["chat"]["id"], reply_to["message_id"]), reply_to)
            message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        self.messages[chat["id"], message["message_id"]] = message
        return message

    def inject(self, update: dict[str, Any]) -> None:
        """Hand the bot any update (``update_id`` is added)."""
        self._queue(update)

    def _queue(self, update: dict[str, Any]) -> None:
        update = {"update_id": next(self._update_ids), **update}
        self._given[update["update_id"]] = copy.deepcopy(update)
        self._hand_over(update)

    def _hand_over(self, update: dict[str, Any]) -> None:
        """Offer ``update`` to the next ``getUpdates``, or push it to the webhook."""
        if self.webhook is None:
            self._updates.append(update)
            self._notify()
            return
        push = asyncio.get_running_loop().create_task(self._push(update, self.webhook.get("secret_token")))
        self._tasks.add(push)
        push.add_done_callback(self._tasks.discard)

    async def post_to_webhook(self, update: dict[str, Any], secret: str | None) -> int:
        """POST an update to the bot's webhook with ``secret`` as the secret header; the HTTP status."""
        assert self.webhook is not None, "the bot has not set a webhook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook["url"], json=update, headers=headers) as response,
        ):
            return response.status

    async def _push(self, update: dict[str, Any], secret: str | None) -> None:
        """Deliver an update to the webhook; like Telegram, try again while nothing listens there yet."""
        for _ in range(100):
            try:
                self.webhook_answers.append(await self.post_to_webhook(update, secret))
                return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)

    def _notify(self) -> None:
        async def wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        task = asyncio.get_running_loop().create_task(wake())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # What the bot did

    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        """Successful calls of ``method`` (any when None) to ``chat_id`` (any when None)."""
        return [
            call
            for call in self.calls
            if call.ok
            and (method is None or call.method == method)
            and (chat_id is None or call.chat_id == chat_id)
        ]

    def _bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages the bot sent to ``chat_id`` and did not delete, as they read now, oldest first."""
        return [
            message
            for (chat, _), message in sorted(self.messages.items())
            if chat == chat_id and message["from"]["id"] == BOT_ID
        ]

    def texts(self, chat_id: int) -> list[str]:
        """The text or caption of each message the bot has in ``chat_id``."""
        return [
            message.get("text") or message.get("caption") or "" for message in self._bot_messages(chat_id)
        ]

    async def wait_for(self, check: Callable[[Call], bool], timeout: float = 15.0) -> Call:
        """The first successful call (already made or still to come) for which ``check`` holds."""
        return await self.until(lambda: next((c for c in self.calls if c.ok and check(c)), None), timeout)

    async def wait_for_text(self, chat_id: int, part: str, timeout: float = 15.0) -> dict[str, Any]:
        """The first bot message in ``chat_id`` whose text or caption contains ``part`` (now or later)."""

        def find() -> dict[str, Any] | None:
            messages = self._bot_messages(chat_id)
            return next((m for m in messages if part in (m.get("text") or m.get("caption") or "")), None)

        return await self.until(find, timeout)

    async def until(self, find: Callable[[], Any], timeout: float = 15.0) -> Any:
        """What ``find()`` returns once it is not None, looked for again after every change."""
        async with asyncio.timeout(timeout), self._changed:
            while (found := find()) is None:
                await self._changed.wait()
            return found

    # The HTTP side

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params, files = await self._read(request)
        if not await self._pass_hold(method, request):
            return web.Response(status=499)
        call = Call(method, params, files, at=time.monotonic())
        if method != "getUpdates" and self._failures[method]:
            status, retry_after, migrate_to = self._failures[method].popleft()
            call.ok = False
            self._record(call)
            body: dict[str, Any] = {
                "ok": False,
                "error_code": status,
                "description": HTTPStatus(status).phrase,
            }
            if migrate_to is not None:
                body["description"] = "Bad Request: group chat was upgraded to a supergroup chat"
                body["parameters"] = {"migrate_to_chat_id": migrate_to}
            elif status == 429:
                body["description"] = f"Too Many Requests: retry after {retry_after}"
                body["parameters"] = {"retry_after": retry_after}
            return web.json_response(body, status=status)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        answer = getattr(self, f"_api_{method}", None)
        if answer is None:
            call.ok = False
            self._record(call)
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            call.result = answer(params, files)
        except _BadRequest as error:
            call.ok = False
            self._record(call)
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}
            return web.json_response(body, status=400)
        self._record(call)
        late = next(
            (entry for entry in self._late if entry[0] == method and entry[1] in (None, call.chat_id)), None
        )
        if late is not None:
            self._late.remove(late)
            await asyncio.sleep(late[2])
        return web.json_response({"ok": True, "result": call.result})

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._notify()

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            params = await request.json()
            return params, files
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
            else:
                params[key] = _value(key, value)
        return params, files

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not self._updates and not self._closing and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        given = copy.deepcopy(self._updates[: int(params.get("limit") or 100)])
        self.handed_out.extend(update["update_id"] for update in given)
        if given:
            self._notify()
        return given

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.Response(status=401)
        if not await self._pass_hold("file", request):
            return web.Response(status=499)
        stored = self._files.get(request.match_info["path"].removeprefix("files/"))
        if stored is None or stored[0] is None:
            return web.Response(status=404)
        return web.Response(body=stored[0], content_type="application/octet-stream")

    # Methods

    def _api_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False}

    def _api_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        self.webhook = None
        return True

    def _api_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        self.webhook = params
        return True

    def _api_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        return True

    def _api_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        file_id = params["file_id"]
        if file_id not in self._files:
            raise _BadRequest("invalid file_id")
        size = self._files[file_id][1]
        if size > DOWNLOAD_LIMIT:
            raise _BadRequest("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": size,
            "file_path": f"files/{file_id}",
        }

    def _api_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._from_bot(params, text=params["text"])

    def _api_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        data = files.get("photo") or b""
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        return self._from_bot(
            params, photo=[self._photo_size(data, width, height)], caption=params.get("caption")
        )

    def _api_sendMediaGroup(self, params: dict[str, Any], files: dict[str, bytes]) -> list[dict[str, Any]]:
        """An album: a message per photo, all with one ``media_group_id``."""
        media = params["media"]
        if not 2 <= len(media) <= 10:
            raise _BadRequest("wrong number of media in the album")
        album = f"album-{next(self._file_ids)}"
        sent = []
        for item in media:
            if item.get("type") != "photo":
                raise _BadRequest("only photos are supported here")
            data = files.get(item["media"].removeprefix("attach://"), b"")
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
            photo = [self._photo_size(data, width, height)]
            caption = item.get("caption")
            sent.append(self._from_bot(params, photo=photo, caption=caption, media_group_id=album))
        return sent

    def _api_getChatMember(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        chat, user_id = self._chat(int(params["chat_id"])), int(params["user_id"])
        user = self.users.get(user_id)
        if user is None:
            raise _BadRequest("user not found")
        status = self.admins.get((chat["id"], user_id), "member")
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(dict.fromkeys(_ADMIN_FLAGS, False))
        return member

    def _api_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        data = files.get("document") or b""
        file_id = self.add_file(data)
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data)}
        return self._from_bot(params, document=document, caption=params.get("caption"))

    def _api_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._edit(params, {"text": params["text"]})

    def _api_editMessageCaption(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._edit(params, {"caption": params.get("caption")})

    def _api_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._edit(params, {})

    def _api_editMessageMedia(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        media = params["media"]
        data = files.get(media["media"].removeprefix("attach://"), b"")
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        return self._edit(
            params, {"photo": [self._photo_size(data, width, height)], "caption": media.get("caption")}
        )

    def _api_deleteMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise _BadRequest("message to delete not found")
        del self.messages[key]
        self.deleted.add(key)
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        return True

    def _from_bot(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat = self._chat(chat_id)
        reply = params.get("reply_parameters") or {}
        replied = self.messages.get((chat_id, reply.get("message_id", 0)))
        if reply and replied is None and not reply.get("allow_sending_without_reply"):
            raise _BadRequest("message to be replied not found")
        markup = params.get("reply_markup") or {}
        if markup.get("inline_keyboard"):  # messages carry inline keyboards only, not ForceReply
            content["reply_markup"] = markup
        return self._message(chat, self.bot_user, replied, content)

    def _chat(self, chat_id: int) -> dict[str, Any]:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise _BadRequest("chat not found")
        return chat

    def _edit(self, params: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise _BadRequest("message to edit not found")
        markup = params.get("reply_markup")
        changed = {**message, **{k: v for k, v in changes.items() if v is not None}}
        if markup and markup.get("inline_keyboard"):
            changed["reply_markup"] = markup
        else:
            changed.pop("reply_markup", None)
        if changed == message:
            raise _BadRequest(
                "message is not modified: specified new message content and reply markup are exactly the same"
            )
        self.messages[key] = changed
        return changed


class _BadRequest(Exception):
    """Answered as 400 Bad Request with this description."""
