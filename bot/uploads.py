"""Reading a photo file from disk without trusting it: regular files only, size checked before reading."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.errors import UserFacingError
from bot.intake import IntakeLimits, PhotoRejected, check_file_size, describe_size

SHOWN_PATH_CHARS = 80


def shown_path(path: Path | str) -> str:
    """``path`` as it may be echoed in a chat: printable characters only, at most 80 of them."""
    text = "".join(char if char.isprintable() else "?" for char in str(path))
    return text if len(text) <= SHOWN_PATH_CHARS else text[:SHOWN_PATH_CHARS] + "…"


def read_photo_file(path: Path, limits: IntakeLimits) -> bytes:
    """The bytes of ``path``; a readable refusal for a missing, special, oversized or impossible path."""
    if "\0" in str(path):
        raise UserFacingError("I can't read that path: it contains a NUL character, which no file name can.")
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise UserFacingError(f"{shown_path(path)} is not a regular file; give me a photo file.")
        check_file_size(info.st_size, limits)
        with path.open("rb") as file:
            data = file.read(limits.max_bytes + 1)
    except OSError as error:
        raise UserFacingError(f"I can't read {shown_path(path)}: {error.strerror or 'unreadable'}.") from None
    except ValueError:  # e.g. a character the file system encoding cannot express
        raise UserFacingError("I can't read that path: it has characters no file name can have.") from None
    if len(data) > limits.max_bytes:  # the file grew after we looked
        raise PhotoRejected(
            f"That file is over the limit of {describe_size(limits.max_bytes, round_up=False)}."
        )
    return data
