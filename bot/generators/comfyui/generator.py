"""The ComfyUI generator: the photo's likeness painted as a toy by an open-weight image-edit model on the
operator's own GPU servers (``COMFYUI_URLS``), driven through ComfyUI's API.

Each figure goes to the healthy server with the shortest queue that has a free slot
(``COMFYUI_CONCURRENCY`` of ours per server); when that server fails it mid-way (down, silent, out of
memory) the figure moves to the next. These models paint opaque pictures, so in ``exact`` box mode the
toy is asked for on a plain backdrop, keyed out here, and put in figurebot's own box.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
from collections.abc import Callable

import aiohttp
from PIL import Image

from bot.config import Settings
from bot.generators.base import Misconfigured, Painted, Progress, ProgressCallback, Transient
from bot.generators.boxing import box_painted
from bot.generators.comfyui.client import QUEUE_POLL, ComfyServer, Queue, ServerTrouble
from bot.generators.comfyui.workflow import Graph, load_workflow, workflow_path
from bot.generators.local import LocalGenerator
from bot.generators.openai import check_words, words_checker
from bot.generators.prompts import figure_prompt
from bot.intake import Photo
from bot.logs import log_event
from bot.spec import FigureSpec

log = logging.getLogger("figurebot.comfyui")

CONNECT_TIMEOUT = 10.0
HEALTH_TIMEOUT = 5.0  # a server whose queue cannot be read this fast is skipped for this figure
PAINT_PIXELS = 1024 * 1024  # the models' native size: figures are painted at about a megapixel


class NoServerCanPaint(Transient):
    """Every server is down, busy failing or out of memory: a passing failure, or a local stand-in."""


def seed_for(variant: int) -> int:
    """The seed of a take: the same variant gives the same picture, a re-roll a new one."""
    return int.from_bytes(hashlib.sha256(f"figurebot-take-{variant}".encode()).digest()[:6], "big")


def paint_size(figure: tuple[int, int]) -> tuple[int, int]:
    """The figure's shape at about ``PAINT_PIXELS``, in multiples of 16 as the models need."""
    scale = min(1.0, math.sqrt(PAINT_PIXELS / (figure[0] * figure[1])))
    return tuple(max(256, round(side * scale / 16) * 16) for side in figure)  # type: ignore[return-value]


class Servers:
    """The configured servers and how many of our paintings each is running."""

    def __init__(self, urls: list[str], timeout: float, per_server: int) -> None:
        self.all = [ComfyServer(url, timeout) for url in urls]
        self.per_server = per_server
        self._busy = {server.label: 0 for server in self.all}
        self._freed = asyncio.Condition()

    async def _health(self, session: aiohttp.ClientSession, server: ComfyServer) -> Queue | None:
        try:
            return await server.queue(session, timeout=min(HEALTH_TIMEOUT, server.timeout))
        except Transient as error:  # a refused token (Misconfigured) is the operator's to fix: it goes on up
            log_event(log, "comfyui.unhealthy", server=server.label, reason=error.message)
            return None

    async def take(
        self, session: aiohttp.ClientSession, tried: set[str], report: ProgressCallback | None
    ) -> ComfyServer | None:
        """The healthy server not yet ``tried`` with the shortest queue and a free slot, waiting while
        every healthy one is full; ``None`` when no untried server is healthy."""
        told = False
        while True:
            candidates = [server for server in self.all if server.label not in tried]
            queues = await asyncio.gather(*(self._health(session, server) for server in candidates))
            healthy = [
                (queue.length, self._busy[server.label], index, server)
                for index, (server, queue) in enumerate(zip(candidates, queues, strict=True))
                if queue is not None
            ]
            if not healthy:
                return None
            free = [row for row in healthy if row[1] < self.per_server]
            if free:
                server = min(free)[3]
                self._busy[server.label] += 1
                return server
            if report and not told:
                told = True
                await report(Progress(0.0, "waiting for a free GPU"))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(QUEUE_POLL), self._freed:
                    await self._freed.wait()

    async def give_back(self, server: ComfyServer) -> None:
        """A painting on ``server`` ended: its slot is free."""
        self._busy[server.label] -= 1
        async with self._freed:
            self._freed.notify_all()


class ComfyUIGenerator:
    """Paints figures with a ComfyUI workflow on one or more of the operator's GPU servers."""

    name = "comfyui"
    daily_quota_per_user = 50
    daily_quota_per_chat = 500
    cost_estimate_usd = 0.0  # the operator's own GPUs: no bill per figure

    def __init__(self, settings: Settings, boxer: LocalGenerator) -> None:
        if not settings.comfyui_servers:
            raise ValueError("the comfyui generator needs COMFYUI_URLS")
        self.settings = settings
        self.boxer = boxer  # builds the box in exact mode, and paints instead when falling back
        self.workflow = load_workflow(workflow_path(settings.comfyui_workflow))
        self.sends_photo_off_machine = not settings.comfyui_on_premises
        self.servers = Servers(
            settings.comfyui_servers, settings.comfyui_timeout, settings.comfyui_concurrency
        )
        self.concurrency: int | None = settings.comfyui_concurrency * len(self.servers.all)
        self._words = words_checker(settings)

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
            self._paint(photo, spec, on_progress), self.name, job, fallback, (Misconfigured, NoServerCanPaint)
        )

    async def _paint(self, photo: Photo, spec: FigureSpec, on_progress: ProgressCallback | None) -> Painted:
        if self._words is not None:  # the user's words, checked before any GPU time is spent
            await check_words(self._words, spec)
        exact = self.settings.comfyui_box_mode == "exact"
        prompt = figure_prompt(spec, self.settings.comfyui_box_mode, backdrop="plain")
        size = paint_size(self.boxer.size)
        seed = seed_for(spec.variant)
        png = await asyncio.to_thread(photo.encode, "PNG")

        def bind(image: str) -> Graph:
            return self.workflow.bind(image, prompt, seed, size)

        image = await self._on_some_server(png, bind, on_progress)
        if exact:
            image = await asyncio.to_thread(box_painted, self.boxer, image, spec)
        else:
            image = image.convert("RGB").resize(self.boxer.size, Image.Resampling.LANCZOS)
        if on_progress:
            await on_progress(Progress(1.0, "boxed"))
        return Painted(image)

    async def _on_some_server(
        self, png: bytes, bind: Callable[[str], Graph], on_progress: ProgressCallback | None
    ) -> Image.Image:
        """The painted picture from the first server that manages it, best servers first."""

        async def report(progress: Progress) -> None:
            if on_progress:
                await on_progress(progress)

        token = self.settings.comfyui_token
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=CONNECT_TIMEOUT, sock_read=self.settings.comfyui_timeout
        )
        tried: set[str] = set()
        trouble: ServerTrouble | None = None
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            while (server := await self.servers.take(session, tried, on_progress)) is not None:
                try:
                    image = await server.paint(session, png, bind, self.workflow.output, report)
                except ServerTrouble as error:
                    log_event(log, "comfyui.moving_on", server=server.label, reason=error.message)
                    tried.add(server.label)
                    trouble = error
                    continue
                finally:
                    await self.servers.give_back(server)
                log_event(log, "comfyui.painted", server=server.label, workflow=self.workflow.name)
                return image
        if trouble is not None:
            raise NoServerCanPaint(f"No GPU server could paint the figure ({trouble.message.rstrip('.')}).")
        raise NoServerCanPaint("No GPU server can be reached right now.")
