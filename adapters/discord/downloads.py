"""Attachments downloaded from Discord's CDN, in chunks, refused once past the size limit."""

from __future__ import annotations

import logging

import aiohttp

from bot.errors import UserFacingError
from bot.intake import IntakeLimits, check_file_size

log = logging.getLogger("figurebot.discord")

DOWNLOAD_FAILED = "I couldn't download that photo from Discord; please try again."
DOWNLOAD_TIMEOUT = 30.0


class Downloads:
    """One HTTP session for attachments, open while the client is logged in."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, limits: IntakeLimits) -> bytes:
        """The bytes of the attachment at ``url``, refused past ``limits.max_bytes`` even when Discord said
        it was smaller."""
        if self._session is None:
            raise UserFacingError(DOWNLOAD_FAILED)
        chunks, size = [], 0
        try:
            async with self._session.get(url) as response:
                if response.status != 200:
                    log.warning("attachment download failed: HTTP %s", response.status)
                    raise UserFacingError(DOWNLOAD_FAILED)
                async for chunk in response.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    check_file_size(size, limits)
                    chunks.append(chunk)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("attachment download failed: %s", type(error).__name__)
            raise UserFacingError(DOWNLOAD_FAILED) from None
        return b"".join(chunks)
