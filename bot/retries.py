"""When a passing failure is tried again: one rule for the engine's workers and ``figurebot render``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.generators.base import Transient


def retry_delay(error: Transient, attempt: int, settings: Settings) -> float | None:
    """Seconds to wait before trying again after attempt ``attempt`` (counted from 1) failed with
    ``error``: the service's retry-after or the backoff (``retry_base_delay``, doubled at each attempt),
    whichever is longer; ``None`` once ``max_attempts`` are used up. Only passing failures (``Transient``)
    are ever tried again: refusals, bad input and the operator's problems (billing, keys) are final."""
    if attempt >= settings.max_attempts:
        return None
    return max(error.retry_after or 0.0, settings.retry_base_delay * 2 ** (attempt - 1))
