"""A fake Discord REST API and gateway on 127.0.0.1 for tests that drive the real ``discord.py`` client.

REST lives under ``/api/v10``: the bot user, application info, the gateway URL, command sync (global and per
guild), interaction callbacks (types 4 to 9), webhook follow-ups and ``@original`` edits, channel messages
(posting, editing, deleting, reading the latest) and DM channels. Attachments are served from
``/attachments/``. The gateway at ``/gateway`` speaks HELLO, IDENTIFY → READY, heartbeats → ACK, and
dispatches events (interactions, and GUILD_CREATE with the server's roles). Every request is recorded;
429s and failures can be scripted::

    async with FakeDiscord() as api:
        settings = ...(discord_api_base_url=api.api_url, discord_gateway_url=api.gateway_url)
        ...  # start the bot, then
        await api.wait_ready()
        interaction = api.slash("figure", ALICE, photo=api.attachment(data, "me.png", "image/png"))
        await api.dispatch(interaction)
        deferred = await api.callback(interaction)

Pitfalls of the real client that the fake honours: JSON responses carry the content type exactly
``application/json`` (no charset), 429s carry a ``Via`` header and ``retry_after`` in the body, and every
interaction carries ``attachment_size_limit``. And Discord's rule for deferrals: the first follow-up sent
while a deferred response still shows "thinking…" (not edited yet) becomes that response, flags and all (an
ephemeral deferral makes it ephemeral), rather than a message of its own.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.server import MAX_REQUEST_BYTES, LocalServer

API = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
EPHEMERAL = 1 << 6
LOADING = 1 << 7
ALL_PERMISSIONS = str((1 << 41) - 1)
MEMBER_PERMISSIONS = str((1 << 10) | (1 << 11) | (1 << 15) | (1 << 31))  # view, send, attach, use commands
DEFAULT_SIZE_LIMIT = 10 * 1024 * 1024
OPTION_TYPES: dict[type, int] = {str: 3, int: 4, bool: 5, float: 10}
ATTACHMENT_OPTION = 11


@dataclass(frozen=True)
class User:
    """A Discord user of the tests."""

    id: int
    name: str
    bot: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "flags": 0,
            "public_flags": 0,
        }


BOT = User(900_000_000_000_000_001, "figurebot", bot=True)
APPLICATION_ID = BOT.id
OWNER = User(900_000_000_000_000_002, "operator")
GUILD_ID = 700_000_000_000_000_001
CHANNEL_ID = 710_000_000_000_000_001


@dataclass(frozen=True)
class SentFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Sent:
    """One request the bot made, and how the fake answered it."""

    method: str
    path: str  # without the ``/api/v10`` prefix for REST calls
    json: Any
    files: list[SentFile]
    at: float  # time.monotonic() when it arrived
    status: int = 200


SENT = web.RequestKey("sent", Sent)


@dataclass
class _Rule:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0  # matching requests to let through first


def snowflake(moment: float | None = None, counter: int = 0) -> int:
    """A Discord id made at ``moment`` (Unix seconds; now by default)."""
    ms = int((time.time() if moment is None else moment) * 1000)
    return ((ms - DISCORD_EPOCH_MS) << 22) | (counter & 0x3FFFFF)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response with the content type discord.py expects: exactly ``application/json``."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status)


class FakeDiscord(LocalServer):
    """Discord's REST API and gateway, as far as a slash-command bot uses them."""

    def __init__(self, *, heartbeat_ms: int = 41_250, size_limit: int = DEFAULT_SIZE_LIMIT) -> None:
        self.heartbeat_ms = heartbeat_ms
        self.size_limit = size_limit
        self.token: str | None = None  # the bot token, learnt from the first authorized request
        self.sent: list[Sent] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) → commands
        self.messages: dict[int, dict[str, Any]] = {}
        self.files: dict[int, list[SentFile]] = {}  # message id → files uploaded with it
        self.identifies: list[dict[str, Any]] = []
        self.heartbeats = 0
        self._interactions: dict[str, dict[str, Any]] = {}  # token → interaction payload
        self._callbacks: dict[int, Sent] = {}
        self._originals: dict[str, int] = {}  # token → message id of the original response
        self._expired: set[str] = set()
        self._attachments: dict[int, tuple[bytes, str]] = {}
        self._rules: list[_Rule] = []
        self._holds: list[tuple[str, re.Pattern[str], asyncio.Event]] = []
        self.held: list[str] = []  # paths of requests waiting in a hold
        self._dm_channels: dict[int, int] = {}
        self._counter = 0
        self._sequence = 0
        self._live: web.WebSocketResponse | None = None
        super().__init__()

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def api_url(self) -> str:
        """The value for ``DISCORD_API_BASE_URL``."""
        return self.origin + API

    @property
    def gateway_url(self) -> str:
        """The value for ``DISCORD_GATEWAY_URL`` (also what ``GET /gateway/bot`` answers)."""
        return self.origin.replace("http://", "ws://") + "/gateway"

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._record], client_max_size=MAX_REQUEST_BYTES)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{id}/{filename}", self._download)
        routes = [
            ("GET", "/users/@me", self._me),
            ("GET", "/oauth2/applications/@me", self._application),
            ("GET", "/gateway/bot", self._gateway_bot),
            ("GET", "/gateway", self._gateway_bot),
            ("PUT", "/applications/{app}/commands", self._sync),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._sync),
            ("POST", "/interactions/{id}/{token}/callback", self._callback),
            ("POST", "/webhooks/{app}/{token}", self._followup),
            ("GET", "/webhooks/{app}/{token}/messages/{message}", self._webhook_message),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message}", self._webhook_message),
            ("DELETE", "/webhooks/{app}/{token}/messages/{message}", self._webhook_message),
            ("GET", "/channels/{channel}/messages", self._channel_history),
            ("POST", "/channels/{channel}/messages", self._channel_message),
            ("PATCH", "/channels/{channel}/messages/{message}", self._channel_message_edit),
            ("DELETE", "/channels/{channel}/messages/{message}", self._channel_message_edit),
            ("POST", "/users/@me/channels", self._dm_channel),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, API + path, handler)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        return app

    async def close(self) -> None:
        self.release()
        if self._live is not None:
            await self._live.close()
        await super().close()

    # -- scripting -------------------------------------------------------------------------------------

    def rate_limit(self, method: str, path: str, retry_after: float, times: int = 1, after: int = 0) -> None:
        """Answer ``times`` requests matching ``method`` and the ``path`` regex with a 429, once ``after``
        of them went through."""
        headers = {
            "Retry-After": str(max(1, round(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after),
            "X-RateLimit-Bucket": "fake-bucket",
            "X-RateLimit-Scope": "user",
            "Via": "1.1 google",
        }
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
        self._rules.append(_Rule(method, re.compile(path), 429, times, body, headers, after))

    def fail(
        self, method: str, path: str, status: int, times: int = 1, code: int = 0, after: int = 0
    ) -> None:
        """Answer ``times`` requests matching ``method`` and the ``path`` regex with ``status``, once
        ``after`` of them went through."""
        body = {"code": code, "message": f"Fake failure {status}"}
        self._rules.append(_Rule(method, re.compile(path), status, times, body, after=after))

    def hold(self, method: str, path: str) -> None:
        """From now on, requests matching ``method`` and the ``path`` regex wait without being carried out
        or answered, until ``release``; a held request whose caller is gone by then is dropped."""
        self._holds.append((method, re.compile(path), asyncio.Event()))

    def release(self) -> None:
        """Let held and later requests through."""
        for _, _, gate in self._holds:
            gate.set()
        self._holds.clear()

    def heal(self) -> None:
        """Drop the scripted 429s and failures that have not happened yet."""
        self._rules.clear()

    def expire(self, interaction: dict[str, Any]) -> None:
        """Make the interaction's token invalid, as Discord does 15 minutes after the interaction."""
        self._expired.add(interaction["token"])

    def attachment(
        self, data: bytes, filename: str, content_type: str | None, *, size: int | None = None
    ) -> dict[str, Any]:
        """An attachment payload whose URL serves ``data``; ``size`` may differ from ``len(data)``."""
        attachment_id = self._next_id()
        self._attachments[attachment_id] = (data, content_type or "application/octet-stream")
        url = f"{self.base_url}/attachments/{attachment_id}/{filename}"
        payload: dict[str, Any] = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data) if size is None else size,
            "url": url,
            "proxy_url": url,
        }
        if content_type is not None:
            payload["content_type"] = content_type
        return payload

    # -- interactions ----------------------------------------------------------------------------------

    def slash(
        self,
        command: str,
        user: User,
        /,
        *,
        guild_id: int | None = GUILD_ID,
        channel_id: int = CHANNEL_ID,
        permissions: str = MEMBER_PERMISSIONS,
        roles: tuple[int, ...] = (),
        size_limit: int | None = None,
        created: float | None = None,
        thread_of: int | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """A slash command interaction (``"group sub"`` for a subcommand) by a member holding ``roles``,
        in ``channel_id`` (a thread of channel ``thread_of`` when given); attachment options are given as
        ``attachment()`` payloads."""
        name, _, subcommand = command.partition(" ")
        data = self._command_data(name, 1, guild_id)
        listed, resolved = self._options(options)
        data["options"] = [{"name": subcommand, "type": 1, "options": listed}] if subcommand else listed
        if resolved:
            data["resolved"] = {"attachments": resolved}
        interaction = self._interaction(2, data, user, guild_id, channel_id, permissions, size_limit, created)
        if "member" in interaction:
            interaction["member"]["roles"] = [str(role) for role in roles]
        if thread_of is not None:
            interaction["channel"] = _thread(channel_id, thread_of, guild_id or GUILD_ID)
        return interaction

    def autocomplete(
        self, command: str, user: User, focused: str, value: str, /, **options: Any
    ) -> dict[str, Any]:
        """The interaction Discord sends while ``user`` types ``value`` into option ``focused``."""
        data = self._command_data(command, 1, GUILD_ID)
        data["options"], _ = self._options(options)
        data["options"].append({"name": focused, "type": 3, "value": value, "focused": True})
        return self._interaction(4, data, user, GUILD_ID, CHANNEL_ID, MEMBER_PERMISSIONS, None, None)

    def message_command(self, name: str, user: User, message: dict[str, Any]) -> dict[str, Any]:
        """A message context menu command on ``message``."""
        data = self._command_data(name, 3, GUILD_ID)
        data["target_id"] = message["id"]
        data["resolved"] = {"messages": {message["id"]: message}}
        return self._interaction(2, data, user, GUILD_ID, CHANNEL_ID, MEMBER_PERMISSIONS, None, None)

    def press(
        self, message: dict[str, Any], custom_id: str, user: User, values: list[str] | None = None
    ) -> dict[str, Any]:
        """A button press (or a select choice, with ``values``) on ``message``."""
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2 if values is None else 3}
        if values is not None:
            data["values"] = values
        channel_id = int(message["channel_id"])
        guild_id = GUILD_ID if channel_id not in self._dm_channels.values() else None
        interaction = self._interaction(3, data, user, guild_id, channel_id, MEMBER_PERMISSIONS, None, None)
        interaction["message"] = message
        return interaction

    def user_message(
        self, author: User, content: str = "", attachments: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """A message someone posted in the test channel (for context menus)."""
        message = self._message(CHANNEL_ID, {"content": content}, author)
        message["attachments"] = attachments or []
        return message

    async def dispatch(self, interaction: dict[str, Any]) -> None:
        """Send the interaction to the bot over the gateway."""
        await self.send_event("INTERACTION_CREATE", interaction)

    async def create_guild(self, roles: dict[int, str]) -> None:
        """Tell the bot about the test server and its roles (id → name), as Discord does at connection."""
        everyone = {
            "id": str(GUILD_ID),
            "name": "@everyone",
            "permissions": MEMBER_PERMISSIONS,
            "position": 0,
        }
        listed = [everyone] + [
            {"id": str(role_id), "name": name, "permissions": "0", "position": position}
            for position, (role_id, name) in enumerate(roles.items(), start=1)
        ]
        guild = {"id": str(GUILD_ID), "name": "Figure fans", "roles": listed, "member_count": 3}
        await self.send_event("GUILD_CREATE", guild)

    async def send_event(self, name: str, data: dict[str, Any]) -> None:
        socket = self._live
        if socket is None or socket.closed:
            raise RuntimeError("no bot is connected to the fake gateway")
        self._sequence += 1
        await socket.send_str(json.dumps({"op": 0, "t": name, "s": self._sequence, "d": data}))

    def _command_data(self, name: str, kind: int, guild_id: int | None) -> dict[str, Any]:
        """The data of a command interaction, as Discord sends it for the command as synced."""
        for scope in (guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == kind:
                    data = {"id": command["id"], "name": name, "type": kind}
                    if scope is not None:
                        data["guild_id"] = str(scope)
                    return data
        raise LookupError(f"the bot has not synced a command {name!r} of type {kind}")

    def _options(self, options: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        listed, resolved = [], {}
        for name, value in options.items():
            if isinstance(value, dict):  # an attachment payload
                resolved[value["id"]] = value
                listed.append({"name": name, "type": ATTACHMENT_OPTION, "value": value["id"]})
            else:
                listed.append({"name": name, "type": OPTION_TYPES[type(value)], "value": value})
        return listed, resolved

    def _interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user: User,
        guild_id: int | None,
        channel_id: int,
        permissions: str,
        size_limit: int | None,
        created: float | None,
    ) -> dict[str, Any]:
        self._counter += 1
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(24)
        payload: dict[str, Any] = {
            "id": str(snowflake(created, self._counter)),
            "application_id": str(APPLICATION_ID),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel_id),
            "app_permissions": ALL_PERMISSIONS,
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id or 0)},
            "attachment_size_limit": self.size_limit if size_limit is None else size_limit,
        }
        if guild_id is None:
            payload["context"] = 1
            payload["user"] = user.payload()
            payload["channel"] = {"id": str(channel_id), "type": 1, "recipients": [user.payload()]}
        else:
            payload["context"] = 0
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["channel"] = {
                "id": str(channel_id),
                "type": 0,
                "guild_id": str(guild_id),
                "name": "figures",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "rate_limit_per_user": 0,
            }
            payload["member"] = {
                "user": user.payload(),
                "roles": [],
                "joined_at": _now_iso(),
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "nick": None,
                "permissions": permissions,
            }
        self._interactions[token] = payload
        return payload

    # -- what the bot sent ---------------------------------------------------------------------------

    def requests(self, method: str | None = None, path: str = "") -> list[Sent]:
        """Recorded requests with ``method`` whose path matches the ``path`` regex (from its start)."""
        pattern = re.compile(path)
        return [
            sent
            for sent in self.sent
            if (method is None or sent.method == method) and pattern.match(sent.path)
        ]

    async def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Poll ``check()`` until it returns something truthy; that value (``TimeoutError`` if never)."""
        async with asyncio.timeout(timeout):
            while not (value := check()):
                await asyncio.sleep(0.01)
        return value

    async def wait_ready(self, identifies: int = 1) -> None:
        """Wait until the bot has identified ``identifies`` times in all and is connected."""
        await self.wait_for(
            lambda: len(self.identifies) >= identifies and self._live is not None and not self._live.closed
        )

    async def callback(self, interaction: dict[str, Any], timeout: float = 10.0) -> Sent:
        """The bot's answer to ``interaction`` (waits for it)."""
        interaction_id = int(interaction["id"])
        return await self.wait_for(lambda: self._callbacks.get(interaction_id), timeout)

    def original(self, interaction: dict[str, Any]) -> dict[str, Any] | None:
        """The message of the interaction's original response as it stands, if there is one."""
        message_id = self._originals.get(interaction["token"])
        return None if message_id is None else self.messages.get(message_id)

    async def wait_original(
        self, interaction: dict[str, Any], check: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Wait until the original response satisfies ``check``; the message."""

        def matching() -> dict[str, Any] | None:
            message = self.original(interaction)
            return message if message is not None and check(message) else None

        return await self.wait_for(matching, timeout)

    def followups(self, interaction: dict[str, Any]) -> list[dict[str, Any]]:
        """Messages the bot sent as follow-ups of the interaction (not its original response)."""
        token = interaction["token"]
        return [
            message
            for message in self.messages.values()
            if message.get("_token") == token and int(message["id"]) != self._originals.get(token)
        ]

    def channel_messages(self, channel_id: int = CHANNEL_ID) -> list[dict[str, Any]]:
        """Messages the bot posted in the channel with the REST API (not through interactions)."""
        return [
            message
            for message in self.messages.values()
            if message["channel_id"] == str(channel_id) and message.get("_posted")
        ]

    def dm_channel(self, user: User) -> int | None:
        return self._dm_channels.get(user.id)

    # -- recording and scripted failures ---------------------------------------------------------------

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bot "):
            self.token = authorization.removeprefix("Bot ")
        body, files = await self._body(request)
        path = request.path.removeprefix(API)
        gate = next((g for m, p, g in self._holds if m == request.method and p.match(path)), None)
        if gate is not None:
            self.held.append(path)
            await gate.wait()
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)
        sent = Sent(request.method, path, body, files, time.monotonic())
        self.sent.append(sent)
        request[SENT] = sent
        for rule in self._rules:
            if rule.times > 0 and rule.method == request.method and rule.path.match(path):
                if rule.after > 0:
                    rule.after -= 1
                    continue
                rule.times -= 1
                sent.status = rule.status
                return _json(rule.body, rule.status, rule.headers)
        response = await handler(request)
        sent.status = response.status
        return response

    @staticmethod
    async def _body(request: web.Request) -> tuple[Any, list[SentFile]]:
        if request.content_type == "multipart/form-data":
            payload: Any = None
            files = []
            reader = await request.multipart()
            async for part in reader:
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":
                    payload = json.loads(data)
                else:
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    files.append(SentFile(part.name or "", part.filename or "", content_type, bytes(data)))
            return payload, files
        if request.can_read_body:
            text = await request.text()
            return (json.loads(text) if text else None), []
        return None, []

    # -- REST ------------------------------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error(404, 0, "404: Not Found")

    async def _me(self, request: web.Request) -> web.Response:
        return _json(BOT.payload())

    async def _application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(APPLICATION_ID),
                "name": BOT.name,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": OWNER.payload(),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "summary": "",
            }
        )

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _sync(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild")
        scope = int(guild) if guild else None
        commands = []
        for command in request[SENT].json:
            stored = {
                "id": str(self._next_id()),
                "application_id": str(APPLICATION_ID),
                "version": str(self._next_id()),
                "type": 1,
                "description": "",
                "options": [],
                **command,
            }
            if scope is not None:
                stored["guild_id"] = str(scope)
            commands.append(stored)
        self.commands[scope] = commands
        return _json(commands)

    async def _callback(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        interaction = self._interactions.get(token)
        if interaction is None or interaction["id"] != request.match_info["id"] or token in self._expired:
            return _error(404, 10062, "Unknown interaction")
        interaction_id = int(interaction["id"])
        if interaction_id in self._callbacks:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        sent: Sent = request[SENT]
        self._callbacks[interaction_id] = sent
        kind = sent.json["type"]
        data = sent.json.get("data") or {}
        message: dict[str, Any] | None = None
        if kind in (4, 5):
            flags = data.get("flags", 0) | (LOADING if kind == 5 else 0)
            message = self._message(int(interaction["channel_id"]), {**data, "flags": flags}, BOT, sent.files)
            message["_token"] = token
            message["interaction_metadata"] = {
                "id": interaction["id"],
                "type": interaction["type"],
                "user": (interaction.get("member") or interaction)["user"],
                "authorizing_integration_owners": interaction["authorizing_integration_owners"],
            }
            self._originals[token] = int(message["id"])
        elif kind in (6, 7) and "message" in interaction:
            message_id = int(interaction["message"]["id"])
            self._originals[token] = message_id
            if kind == 7 and message_id in self.messages:
                message = self._edit(self.messages[message_id], data, sent.files)
        response: dict[str, Any] = {
            "interaction": {
                "id": interaction["id"],
                "type": interaction["type"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool((data.get("flags") or 0) & EPHEMERAL),
            }
        }
        if message is not None:
            response["interaction"]["response_message_id"] = message["id"]
            response["resource"] = {"type": kind, "message": self.public(message)}
        return _json(response)

    def _webhook_token(self, request: web.Request) -> tuple[str, web.Response | None]:
        token = request.match_info["token"]
        if token in self._expired:
            return token, _error(401, 50027, "Invalid Webhook Token")
        if token not in self._interactions or request.match_info["app"] != str(APPLICATION_ID):
            return token, _error(404, 10015, "Unknown Webhook")
        return token, None

    async def _followup(self, request: web.Request) -> web.Response:
        token, refused = self._webhook_token(request)
        if refused is not None:
            return refused
        sent: Sent = request[SENT]
        original = self.original(self._interactions[token])
        if original is not None and original["flags"] & LOADING:  # Discord's rule: it ends the deferral
            data = {key: value for key, value in (sent.json or {}).items() if key != "flags"}
            return _json(self.public(self._edit(original, data, sent.files)))
        channel_id = int(self._interactions[token]["channel_id"])
        message = self._message(channel_id, sent.json or {}, BOT, sent.files)
        message["_token"] = token
        return _json(self.public(message))

    async def _webhook_message(self, request: web.Request) -> web.StreamResponse:
        token, refused = self._webhook_token(request)
        if refused is not None:
            return refused
        name = request.match_info["message"]
        message_id = self._originals.get(token) if name == "@original" else int(name)
        message = self.messages.get(message_id) if message_id is not None else None
        if message is None:
            return _error(404, 10008, "Unknown Message")
        if request.method == "DELETE":
            message["_deleted"] = True
            return web.Response(status=204)
        if request.method == "PATCH":
            sent: Sent = request[SENT]
            message = self._edit(message, sent.json or {}, sent.files)
        return _json(self.public(message))

    async def _channel_history(self, request: web.Request) -> web.Response:
        """The channel's latest messages, newest first (ephemeral ones are nobody's history)."""
        channel = request.match_info["channel"]
        limit = min(100, int(request.query.get("limit", "50")))
        listed = [
            self.public(message)
            for message in reversed(self.messages.values())
            if message["channel_id"] == channel
            and not message.get("_deleted")
            and not message["flags"] & EPHEMERAL
        ]
        return _json(listed[:limit])

    async def _channel_message(self, request: web.Request) -> web.Response:
        sent: Sent = request[SENT]
        message = self._message(int(request.match_info["channel"]), sent.json or {}, BOT, sent.files)
        message["_posted"] = True
        return _json(self.public(message))

    async def _channel_message_edit(self, request: web.Request) -> web.StreamResponse:
        message = self.messages.get(int(request.match_info["message"]))
        if message is None or message["channel_id"] != request.match_info["channel"]:
            return _error(404, 10008, "Unknown Message")
        if request.method == "DELETE":
            message["_deleted"] = True
            return web.Response(status=204)
        sent: Sent = request[SENT]
        return _json(self.public(self._edit(message, sent.json or {}, sent.files)))

    async def _dm_channel(self, request: web.Request) -> web.Response:
        recipient = int(request[SENT].json["recipient_id"])
        channel_id = self._dm_channels.setdefault(recipient, self._next_id())
        recipient_payload = User(recipient, f"user{recipient}").payload()
        return _json({"id": str(channel_id), "type": 1, "recipients": [recipient_payload], "flags": 0})

    async def _download(self, request: web.Request) -> web.Response:
        found = self._attachments.get(int(request.match_info["id"]))
        if found is None:
            return web.Response(status=404, text="Not Found")
        data, content_type = found
        return web.Response(body=data, headers={"Content-Type": content_type})

    # -- messages ------------------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._counter += 1
        return snowflake(None, self._counter)

    def _message(
        self, channel_id: int, data: dict[str, Any], author: User, files: list[SentFile] | None = None
    ) -> dict[str, Any]:
        message_id = self._next_id()
        message: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": author.payload(),
            "content": "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if author.bot:
            message["application_id"] = str(APPLICATION_ID)
            message["webhook_id"] = str(APPLICATION_ID)
        self.messages[message_id] = message
        return self._apply(message, data, files or [])

    def _edit(self, message: dict[str, Any], data: dict[str, Any], files: list[SentFile]) -> dict[str, Any]:
        message["edited_timestamp"] = _now_iso()
        return self._apply(message, data, files)

    def _apply(self, message: dict[str, Any], data: dict[str, Any], files: list[SentFile]) -> dict[str, Any]:
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in data:
                message[key] = data[key] if data[key] is not None else ([] if key != "content" else "")
        if "flags" in data:
            message["flags"] = data["flags"] or 0
        elif message["flags"] & LOADING:
            message["flags"] &= ~LOADING  # an edit ends the "thinking…" state
        message_id = int(message["id"])
        if files:
            self.files[message_id] = list(files)
            message["attachments"] = [
                {
                    "id": str(self._next_id()),
                    "filename": file.filename,
                    "size": len(file.data),
                    "url": f"{self.base_url}/sent/{message_id}/{file.filename}",
                    "proxy_url": f"{self.base_url}/sent/{message_id}/{file.filename}",
                    "content_type": file.content_type,
                }
                for file in files
            ]
        elif "attachments" in data:
            kept = {str(item.get("id")) for item in data["attachments"] or []}
            message["attachments"] = [item for item in message["attachments"] if item["id"] in kept]
            if not message["attachments"]:
                self.files.pop(message_id, None)
        return message

    @staticmethod
    def public(message: dict[str, Any]) -> dict[str, Any]:
        """A stored message as Discord shows it (and sends it in interactions), without the fake's own
        bookkeeping keys."""
        return {key: value for key, value in message.items() if not key.startswith("_")}

    # -- gateway -------------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms}}))
        async for frame in socket:
            message = json.loads(frame.data)
            op = message.get("op")
            if op == 1:
                self.heartbeats += 1
                await socket.send_str(json.dumps({"op": 11}))
            elif op == 2:
                self.identifies.append(message["d"])
                await self._ready(socket)
            elif op == 6:  # RESUME: sessions do not survive here; ask for a fresh IDENTIFY
                await socket.send_str(json.dumps({"op": 9, "d": False}))
        if self._live is socket:
            self._live = None
        return socket

    async def _ready(self, socket: web.WebSocketResponse) -> None:
        self._sequence = 1
        ready = {
            "v": 10,
            "user": BOT.payload(),
            "guilds": [],
            "session_id": secrets.token_hex(16),
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APPLICATION_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "shard": [0, 1],
        }
        await socket.send_str(json.dumps({"op": 0, "t": "READY", "s": 1, "d": ready}))
        self._live = socket


def _thread(thread_id: int, parent_id: int, guild_id: int) -> dict[str, Any]:
    """A public thread's channel object, as interactions carry it."""
    return {
        "id": str(thread_id),
        "type": 11,
        "guild_id": str(guild_id),
        "parent_id": str(parent_id),
        "owner_id": str(BOT.id),
        "name": "a thread",
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": _now_iso(),
            "locked": False,
        },
    }
