"""Structured logging: one ``key=value`` line per event, with tokens, keys and secrets redacted."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
# Shapes of credentials that must never reach a log line, even when no setting names them.
_SECRET_SHAPES = re.compile(
    r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"  # Telegram bot token
    r"|\bsk-[A-Za-z0-9_-]{16,}"  # OpenAI API key
    r"|\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}\b"  # Discord bot token
    r"|\baW50ZXJhY3Rpb246[A-Za-z0-9_-]+"  # Discord interaction token ("interaction:" in base64)
)
_STANDARD = set(vars(logging.makeLogRecord({})))


def _quote(value: object) -> str:
    text = str(value)
    return f'"{text}"' if not text or any(c in text for c in ' ="') else text


class KeyValueFormatter(logging.Formatter):
    """``time level logger message key=value …``; anything that looks like a secret is replaced."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted((s for s in secrets if s and len(s) >= 8), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _SECRET_SHAPES.sub(REDACTED, text)

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        fields = {
            key: value for key, value in vars(record).items() if key not in _STANDARD and key != "message"
        }
        line = " ".join(
            [stamp, record.levelname.lower(), record.name, _quote(record.getMessage())]
            + [f"{key}={_quote(value)}" for key, value in fields.items()]
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return self.redact(line)


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``event`` with ``fields`` as separate keys (rendered ``key=value``)."""
    logger.log(level, event, extra=fields)


CHATTY = ("telegram", "discord", "aiohttp", "openai", "google_genai", "websockets", "urllib3")


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Send figurebot's logs to stderr at ``level``, redacting ``secrets`` and credential-shaped text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpx2", "httpcore", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    for library in CHATTY:  # their DEBUG records carry whole payloads: message texts, names, ids
        logging.getLogger(library).setLevel(max(logging.INFO, root.level))
