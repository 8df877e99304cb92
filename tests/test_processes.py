"""Whole ``figurebot`` processes: killed mid-work, stopped by a signal, started without a platform."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from tests.fakes.telegram_api import TOKEN, Call, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
PERSON = ROOT / "examples" / "astronaut.png"
DONE = re.compile(r"^(\w+): done → (.+)$")


def environment(data: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("FIGURE", "PHOTO", "WORKER"))
    }
    env.update(
        FIGUREBOT_DATA_DIR=str(data),
        WORKER_CONCURRENCY="1",
        LOCAL_CONCURRENCY="1",
        MAX_ACTIVE_JOBS_PER_USER="0",
        **extra,
    )
    return env


class Chat:
    """A ``figurebot chat`` process whose output lines arrive on a queue."""

    def __init__(self, data: Path, stdin: int = subprocess.PIPE, **extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "chat"],
            cwd=ROOT,
            env=environment(data, **extra),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, predicate, timeout: float = 60.0) -> str:
        """The first line (already seen or still to come) that matches."""
        for line in self.seen:
            if predicate(line):
                return line
        while True:
            line = self.lines.get(timeout=timeout)
            self.seen.append(line)
            if predicate(line):
                return line

    def drain(self) -> None:
        while True:
            try:
                self.seen.append(self.lines.get(timeout=2))
            except queue.Empty:
                return


def queued_ids(lines: list[str]) -> list[str]:
    return [line.split(":")[0] for line in lines if ": queued for " in line]


def done_ids(lines: list[str]) -> list[str]:
    return [match.group(1) for line in lines if (match := DONE.match(line))]


def chat_with_figures(data: Path, count: int, **extra: str) -> tuple[Chat, list[str]]:
    """A chat that was asked for ``count`` figures, and their job ids in order."""
    chat = Chat(data, **extra)
    for i in range(count):
        chat.send(f"/figure {PERSON} name=Figure{i} theme=astronaut")
    chat.wait_for(lambda line: f"queued for Figure{count - 1} " in line)
    return chat, queued_ids(chat.seen)


def finished_by_a_fresh_chat(data: Path) -> list[str]:
    """Start a chat with no input, which finishes what is pending and exits; the ids it delivered."""
    chat = Chat(data, stdin=subprocess.DEVNULL)
    assert chat.process.wait(timeout=180) == 0, chat.process.stderr.read()
    chat.drain()
    return done_ids(chat.seen)


def test_sigkill_mid_work_then_restart_delivers_every_job_exactly_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first, submitted = chat_with_figures(data, 5)
    # kill while the third figure is being painted: two delivered, one in flight, two waiting
    first.wait_for(lambda line: line == f"{submitted[2]}: painting…")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=30)
    first.drain()
    before = done_ids(first.seen)
    assert before == submitted[:2]

    delivered = Counter(before + finished_by_a_fresh_chat(data))
    assert sorted(delivered) == sorted(submitted)
    assert set(delivered.values()) == {1}
    for job in submitted:
        assert next((data / "figures").glob(f"*/{job}.png")).read_bytes().startswith(b"\x89PNG")


def test_sigterm_stops_gracefully_and_nothing_is_lost(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first, submitted = chat_with_figures(data, 3, SHUTDOWN_GRACE="10")
    first.wait_for(lambda line: line == f"{submitted[0]}: painting…")
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(timeout=30) == 0
    first.drain()
    before = done_ids(first.seen)
    assert submitted[0] in before  # the running job finished within the grace period and was told
    delivered = Counter(before + finished_by_a_fresh_chat(data))
    assert sorted(delivered) == sorted(submitted) and set(delivered.values()) == {1}


def test_run_without_any_platform_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=ROOT,
        env=environment(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no chat platform is configured" in result.stderr
    assert "figurebot chat" in result.stderr


def test_a_wrong_key_for_an_existing_store_is_one_clear_line(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    data = tmp_path / "data"
    first = Chat(data, stdin=subprocess.DEVNULL)
    assert first.process.wait(timeout=60) == 0
    wrong = environment(data, FIGUREBOT_SECRET_KEY=Fernet.generate_key().decode())
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        cwd=ROOT,
        env=wrong,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "not the key this store was written with" in result.stderr
    assert "Traceback" not in result.stderr


async def run_for_one_figure(data: Path, **extra: str) -> tuple[Call, int, str]:
    """``figurebot run`` serving a fake Telegram (plus ``extra`` settings): a photo is sent, the figure
    comes back, then SIGTERM. The figure sent, the exit code and what the process wrote on stderr."""
    async with FakeTelegram() as api:
        telegram = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_FILE_BASE_URL": api.file_base_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=ROOT,
            env=environment(data, **telegram, **extra),
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await api.wait_for(lambda call: call.method == "setMyCommands", timeout=60)
            api.send_photo(api.user(1001, "Ann"), PERSON.read_bytes(), caption="Eileen | astronaut")
            figure = await api.wait_for(lambda call: call.method == "sendPhoto", timeout=60)
            process.send_signal(signal.SIGTERM)
            _, errors = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    return figure, process.returncode, errors.decode()


async def test_run_serves_telegram_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """``figurebot run`` with a Telegram token: a photo sent to the bot comes back as a figure."""
    figure, code, said = await run_for_one_figure(tmp_path / "data")
    assert figure.chat_id == 1001 and "Eileen" in figure.params["caption"]
    assert code == 0, said
    assert TOKEN not in said


async def test_run_keeps_serving_telegram_when_discord_cannot_start(tmp_path: Path) -> None:
    """One platform failing is logged (tokens redacted) and leaves the other serving; SIGTERM exits 0."""
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/api/v10"
    discord_token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
    figure, code, said = await run_for_one_figure(
        tmp_path / "data", DISCORD_TOKEN=discord_token, DISCORD_API_BASE_URL=nowhere
    )
    assert figure.chat_id == 1001
    assert code == 0, said
    assert "discord stopped with an error" in said
    assert TOKEN not in said and discord_token not in said
