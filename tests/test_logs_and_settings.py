"""Structured, redacted logging and the human-friendly settings."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import secrets_of
from bot.config import parse_duration
from bot.logs import REDACTED, KeyValueFormatter, log_event
from tests.engine_kit import settings_for


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90.0),
        ("90", 90.0),
        ("90s", 90.0),
        ("15m", 900.0),
        ("1h", 3600.0),
        ("30d", 2592000.0),
        ("1h30m", 5400.0),
        ("0", 0.0),
        (" 2 h ", 7200.0),
        ("1.5h", 5400.0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1w", "h", "1h-5m", "-3"])
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match=r"write e\.g\. 90, 90s, 15m, 1h or 30d"):
        parse_duration(text)


def test_retention_settings_take_durations(tmp_path) -> None:
    settings = settings_for(tmp_path, photo_retention="2h", figure_retention="7d")
    assert (settings.photo_retention, settings.figure_retention) == (7200.0, 604800.0)


def render(formatter: KeyValueFormatter, message: str, **fields: object) -> str:
    record = logging.makeLogRecord(
        {"name": "figurebot.test", "levelno": 20, "levelname": "INFO", "msg": message}
    )
    record.__dict__.update(fields)
    return formatter.format(record)


def test_one_line_per_event_with_key_values() -> None:
    line = render(KeyValueFormatter(), "job.queued", job="ab12", position=3, reason="two words")
    assert line.endswith('figurebot.test job.queued job=ab12 position=3 reason="two words"')
    assert "\n" not in line


def test_configured_secrets_and_credential_shapes_are_redacted(tmp_path) -> None:
    key = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg="
    settings = settings_for(tmp_path, figurebot_secret_key=key)
    formatter = KeyValueFormatter(secrets_of(settings))
    telegram = "123456789:AAHkq1d2x3c4v5b6n7m8a9s0d1f2g3h4j5k"
    openai = "sk-proj-abcdefghijklmnopqrstuvwx"
    interaction = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXQ"  # base64 of "interaction:…"
    url = f"https://discord.com/api/v10/webhooks/42/{interaction}/messages/@original"
    line = render(formatter, f"calling with {telegram}", header=f"Bearer {openai}", secret=key, url=url)
    for secret in (key, telegram, openai, interaction):
        assert secret not in line
    assert line.count(REDACTED) == 4


def test_exceptions_are_redacted_too() -> None:
    formatter = KeyValueFormatter(["super-secret-value"])
    try:
        raise RuntimeError("token super-secret-value rejected")
    except RuntimeError:
        record = logging.LogRecord(
            "figurebot", logging.ERROR, __file__, 1, "failed", None, __import__("sys").exc_info()
        )
    text = formatter.format(record)
    assert "super-secret-value" not in text and "RuntimeError" in text


def test_log_event_puts_fields_on_the_record(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        log_event(logging.getLogger("figurebot.test"), "job.done", job="x1", bytes=10)
    assert caplog.records[-1].job == "x1" and caplog.records[-1].getMessage() == "job.done"


@pytest.mark.parametrize(("width", "height"), [(1536, 1024), (1024, 1024), (4096, 384)])
def test_only_two_by_three_portrait_sizes_are_accepted(tmp_path, width: int, height: int) -> None:
    with pytest.raises(ValueError, match="2:3 portrait"):
        settings_for(tmp_path, figure_width=width, figure_height=height)


def test_two_by_three_sizes_and_style_names(tmp_path) -> None:
    assert settings_for(tmp_path, figure_width=512, figure_height=768).figure_height == 768
    with pytest.raises(ValueError, match="blister"):
        settings_for(tmp_path, figure_style="fancy")


async def test_logs_name_no_user(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    from tests.engine_kit import photo, rig, spec

    with caplog.at_level(logging.INFO):
        async with rig(tmp_path) as r:
            requester = r.requester("alice@example.com")
            await r.engine.accept_privacy(requester)
            await r.engine.submit(requester, photo(), spec())
            await r.said_until(lambda line: "done →" in line)
            await r.engine.forget(requester)
    rendered = [KeyValueFormatter().format(record) for record in caplog.records]
    assert any("consent.accepted" in line for line in rendered)
    assert not any("alice" in line for line in rendered)


def test_debug_logging_keeps_the_chat_libraries_payloads_out(tmp_path: Path) -> None:
    """At LOG_LEVEL=DEBUG figurebot's own records show, the chat and API libraries' payload dumps do not."""
    script = (
        "import logging\n"
        "from bot.logs import setup_logging\n"
        "setup_logging('DEBUG')\n"
        "logging.getLogger('figurebot.engine').debug('own debug line')\n"
        "for name in ('telegram.ext.ExtBot', 'discord.gateway', 'aiohttp.client', 'openai._base_client',\n"
        "             'google_genai._api_client'):\n"
        "    logging.getLogger(name).debug('payload of Ann Example in chat 4242')\n"
        "logging.getLogger('discord.client').info('logged in')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "own debug line" in done.stderr and "logged in" in done.stderr
    assert "Ann Example" not in done.stderr
