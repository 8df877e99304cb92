"""The Generator protocol and the typed errors the engine maps to retries or messages."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from bot.errors import UserFacingError
from bot.intake import Photo
from bot.spec import FigureSpec


class GeneratorError(UserFacingError):
    """Base of every error a generator raises; the message is safe to show a user."""

    cost_usd: float = 0.0  # what the failed attempt still cost (a paid answer that could not be used)


class Refused(GeneratorError):
    """The request breaks a content rule; never retried."""


class BadInput(GeneratorError):
    """The photo or text cannot be used; never retried."""


class Transient(GeneratorError):
    """A passing failure (rate limit, timeout, 5xx); retried with backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Misconfigured(GeneratorError):
    """The operator must fix something (key, quota, model); never retried."""


MAX_RESULT_PIXELS = 4096 * 4096


def read_picture(data: bytes, source: str, failure: type[Transient] = Transient) -> Image.Image:
    """The picture a painting service returned, as RGBA; one that is broken or far larger than asked for
    is a passing failure (``failure``, tried again), said as coming from ``source``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_RESULT_PIXELS:
                raise failure(f"{source} sent an image far larger than asked for.")
            image.load()
            return image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        raise failure(f"{source} sent an image that could not be read.") from None


@dataclass(frozen=True)
class Painted:
    """A finished figure with what the engine should know about it: its estimated cost, the generator
    that stood in when the requested one could not paint (a fallback), and notes for the user: short
    sentences shown with the figure ("I could not draw: jetpack")."""

    image: Image.Image
    cost_usd: float = 0.0
    stand_in: str | None = None
    notes: tuple[str, ...] = ()


def as_painted(result: Image.Image | Painted) -> Painted:
    """What a generator returned, as a ``Painted`` (a bare image has no cost, stand-in or notes)."""
    return result if isinstance(result, Painted) else Painted(result)


@dataclass(frozen=True)
class Progress:
    """How far a generation has come, with an optional preview image."""

    fraction: float
    stage: str
    preview: Image.Image | None = None


ProgressCallback = Callable[[Progress], Awaitable[None]]


class Generator(Protocol):
    """Turns a photo and a spec into a finished, boxed figure image."""

    name: str
    sends_photo_off_machine: bool
    concurrency: int | None  # jobs at once; None: the engine's setting
    daily_quota_per_user: int
    daily_quota_per_chat: int
    cost_estimate_usd: float  # what one figure is expected to cost, checked against budgets before it starts

    async def generate(
        self,
        photo: Photo,
        spec: FigureSpec,
        on_progress: ProgressCallback | None = None,
        requester: str = "",
    ) -> Image.Image | Painted:
        """The figure; a ``Painted`` when there is a cost, a stand-in or a note to report. ``spec.variant``
        picks the take: the same inputs and variant give the same picture. ``requester`` is a keyed hash
        of who asked (never their id), for services that watch for abuse per end user."""
        ...
