"""Telling a double tap on a button from a second request."""

from __future__ import annotations

import time


class RecentPresses:
    """The buttons pressed in the last ``window`` seconds, to tell a double tap from a second request:
    the same person pressing the same button under the same message again within moments."""

    def __init__(self, window: float = 3.0) -> None:
        self.window = window
        self._seen: dict[tuple[object, ...], float] = {}  # press → when

    def repeated(self, *press: object) -> bool:
        """Whether ``press`` (message, action, target, person…) was seen within the window; if not, it
        is remembered from now."""
        now = time.monotonic()
        self._seen = {key: at for key, at in self._seen.items() if now - at < self.window}
        if press in self._seen:
            return True
        self._seen[press] = now
        return False
