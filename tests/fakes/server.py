"""What every fake service shares: an aiohttp application on a free port of 127.0.0.1, as ``async with``."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web

MAX_REQUEST_BYTES = 64 * 1024 * 1024


class LocalServer:
    """Serves ``application()`` on 127.0.0.1 while running; subclasses add routes and recordings."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._port = 0

    def application(self) -> web.Application:
        """The routes of the fake service."""
        raise NotImplementedError

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._runner is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        self._runner = web.AppRunner(self.application(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Stop listening (subclasses release what still waits first)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
