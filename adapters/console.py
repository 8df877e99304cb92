"""The terminal platform: try figurebot without any token. In memory it is the platform core tests drive.

Type ``/figure PATH name=Alex theme=astronaut``; the bot answers with queue position, progress and the path
of each finished figure. ``push(line)`` handles one line; ``pop()`` returns the next thing the bot said.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from adapters.wording import COMMAND_BROKEN, forget_summary, privacy_text, themes_text
from bot.engine import JobEngine
from bot.errors import UserFacingError
from bot.intake import IntakeLimits, accept_photo
from bot.jobs import ID_PATTERN, EventKind, Job, JobEvent, Requester
from bot.privacy import ConsentRequired
from bot.spec import parse_caption
from bot.uploads import read_photo_file, shown_path

log = logging.getLogger("figurebot.console")

PLATFORM = "console"
JOB_ID = re.compile(ID_PATTERN)
NO_JOB = "You have no figure to do that with yet. Start one with /figure PATH."
NOTHING_TO_CANCEL = "You have no figure waiting or painting, so there is nothing to cancel."
COMMANDS = "/figure, /reroll, /cancel, /queue, /themes, /privacy, /accept, /forget, /as, /help, /quit"
HELP = """Commands:
  /figure PATH [caption]   make a figure: /figure me.jpg name=Alex theme=astronaut accessories="helmet, cat"
                           or /figure me.jpg Alex | pirate | parrot, map
  /reroll [JOB] [caption]  another figure from the same photo (your latest job unless JOB is given)
  /cancel [JOB]            cancel a waiting or running figure
  /queue                   your figures in the works and their places in the queue
  /themes                  the theme catalog
  /privacy, /accept        read the privacy notice; accept it (needed for generators that send photos out)
  /forget yes              delete everything stored about you (/forget alone asks first)
  /as NAME                 act as another user
  /help                    this text
  /quit                    leave the chat
A photo path with spaces goes in quotes: /figure "my photos/me.jpg" name=Alex"""


def _split_path(rest: str) -> tuple[Path, str]:
    """The photo path (quoted if it has spaces) and the caption after it."""
    if not rest:
        raise UserFacingError("Tell me which photo: /figure PATH [caption], e.g. /figure me.jpg name=Alex")
    if rest[0] in "\"'":
        end = rest.find(rest[0], 1)
        if end == -1:
            raise UserFacingError("The photo path opens a quote but never closes it.")
        return _expand(rest[1:end]), rest[end + 1 :].strip()
    path, _, caption = rest.partition(" ")
    return _expand(path), caption.strip()


def _quote_hint(rest: str, path: Path) -> str | None:
    """When an unquoted photo path names nothing and more words follow it, the user probably typed a path
    with spaces: the refusal, with how to quote it (their own command when the joined words are a file)."""
    if rest[:1] in "\"'" or " " not in rest:
        return None
    try:
        path.lstat()
        return None  # it is there: any other problem with it is read_photo_file's to tell
    except FileNotFoundError as error:
        missing = f"I can't read {shown_path(path)}: {error.strerror or 'No such file or directory'}."
    except (OSError, ValueError):  # a NUL, a name too long…: read_photo_file says so
        return None
    words = rest.split(" ")[:64]
    for end in range(len(words), 1, -1):
        joined = " ".join(words[:end])
        if _is_file(joined):
            quoted = " ".join(["/figure", f'"{joined}"', *words[end:]]).strip()
            shown = "".join(char if char.isprintable() else "?" for char in quoted)  # whole: to copy
            return f"{missing} A path with spaces goes in quotes: {shown}"
    return f'{missing} If the path has spaces, put it in quotes, e.g. /figure "my photos/me.jpg"'


def _is_file(typed: str) -> bool:
    try:
        return Path(typed).expanduser().is_file()
    except (OSError, RuntimeError, ValueError):
        return False


def _expand(typed: str) -> Path:
    """The typed path with ``~`` or ``~user`` expanded; a readable refusal for an unknown home folder."""
    if "\0" in typed:
        return Path(typed)  # read_photo_file refuses it with a clear sentence
    try:
        return Path(typed).expanduser()
    except (RuntimeError, ValueError):
        home = typed.split("/", 1)[0]
        raise UserFacingError(
            f"I can't read that path: I can't find the home folder of {shown_path(home)}."
        ) from None


def user_folder(user: str) -> str:
    """A folder name for ``user`` that is safe on any file system, whatever characters the name has:
    a short readable part and a hash of the whole name, so different names never share a folder."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", user).strip("-")[:24]
    digest = hashlib.sha256(user.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{readable}-{digest}" if readable else digest


class ConsoleAdapter:
    """A chat with the bot in a terminal (or in memory, for tests)."""

    def __init__(self, engine: JobEngine, output_dir: Path, user: str = "you") -> None:
        self.engine = engine
        self.output_dir = output_dir
        self.user = user
        self.said: asyncio.Queue[str] = asyncio.Queue()
        self.limits = IntakeLimits.from_settings(engine.settings)
        engine.subscribe(PLATFORM, self.on_event)

    @property
    def requester(self) -> Requester:
        return Requester(PLATFORM, self.user, chat_id="terminal")

    def say(self, text: str) -> None:
        self.said.put_nowait(text)

    async def pop(self, timeout: float = 30.0) -> str:
        """The next thing the bot said (waits up to ``timeout`` seconds)."""
        return await asyncio.wait_for(self.said.get(), timeout)

    async def push(self, line: str) -> None:
        """Handle one line typed by the current user; answers go to ``said``. Never raises for any input."""
        try:
            await self._handle(line)
        except Exception:  # the last resort: no command may ever end the chat
            log.exception("console command failed")
            self.say(COMMAND_BROKEN)

    async def _handle(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        command, _, rest = line.partition(" ")
        handler = self._commands().get(command.lower())
        if handler is None and command.startswith("/"):
            self.say(f"I don't know the command {shown_path(command)}. The commands are: {COMMANDS}.")
            return
        if handler is None:
            self.say("I only understand commands here. Type /help to see them.")
            return
        try:
            await handler(rest.strip())
        except ConsentRequired as notice:
            self.say(f"{notice.message}\nType /accept to agree, then send the command again.")
        except UserFacingError as error:
            self.say(error.message)

    def _commands(self) -> dict:
        return {
            "/figure": self._figure,
            "/reroll": self._reroll,
            "/cancel": self._cancel,
            "/queue": self._queue,
            "/themes": self._themes,
            "/privacy": self._privacy,
            "/accept": self._accept,
            "/forget": self._forget,
            "/as": self._as,
            "/help": self._help,
            "/start": self._help,
        }

    async def _figure(self, rest: str) -> None:
        path, caption = _split_path(rest)
        hint = await asyncio.to_thread(_quote_hint, rest, path)
        if hint:
            raise UserFacingError(hint)
        spec = parse_caption(caption)
        data = await asyncio.to_thread(read_photo_file, path, self.limits)
        photo = await asyncio.to_thread(accept_photo, data, self.limits)
        submitted = await self.engine.submit(self.requester, photo, spec)
        self.say(f"{submitted.job_id}: queued for {spec.name} ({spec.theme}), position {submitted.position}.")

    async def _job(self, rest: str, active_only: bool) -> tuple[Job, str]:
        """The job named first in ``rest`` (or the user's latest) and the rest of the text.

        A first word shaped like a job id always names a job, so a mistyped id is refused rather than
        taken for the latest job; any other first word is left in the text."""
        first, _, tail = rest.partition(" ")
        if JOB_ID.fullmatch(first):
            return await self.engine.own_job(first, self.requester), tail.strip()
        if active_only:
            jobs = await self.engine.active_jobs(self.requester)
            latest = jobs[-1] if jobs else None
        else:
            latest = await self.engine.latest_job(self.requester)
        if latest is None:
            raise UserFacingError(NO_JOB)
        return latest, rest

    async def _reroll(self, rest: str) -> None:
        job, caption = await self._job(rest, active_only=False)
        spec = parse_caption(caption, base=job.spec) if caption else None
        submitted = await self.engine.reroll(job.id, self.requester, spec)
        self.say(f"{submitted.job_id}: re-roll of {job.id} queued, position {submitted.position}.")

    async def _cancel(self, rest: str) -> None:
        if rest and not JOB_ID.fullmatch(rest):
            raise UserFacingError("Usage: /cancel [JOB]")
        if not rest and not await self.engine.active_jobs(self.requester):
            raise UserFacingError(NOTHING_TO_CANCEL)
        job, _ = await self._job(rest, active_only=True)
        await self.engine.cancel(job.id, self.requester)

    async def _queue(self, _rest: str) -> None:
        jobs = await self.engine.active_jobs(self.requester)
        if not jobs:
            self.say("You have no figures in the works.")
            return
        for job in jobs:
            place = await self.engine.position(job.id)
            where = f"position {place}" if place else "painting now"
            self.say(f"{job.id}: {job.spec.name} ({job.spec.theme}), {where}.")

    async def _themes(self, _rest: str) -> None:
        self.say(themes_text())

    async def _privacy(self, _rest: str) -> None:
        self.say((await privacy_text(self.engine, self.requester))[0])

    async def _accept(self, _rest: str) -> None:
        await self.engine.accept_privacy(self.requester)
        self.say("Thanks: the privacy notice is accepted.")

    async def _forget(self, rest: str) -> None:
        folder = self.output_dir / user_folder(self.user)
        if rest.lower() != "yes":  # one line confirms, so piped input can answer too
            self.say(
                "This deletes every photo, figure and job stored about you, and your saved figure files in "
                f"{shown_path(folder)}. To go ahead, type /forget yes"
            )
            return
        summary = forget_summary(await self.engine.forget(self.requester))
        try:
            removed = await asyncio.to_thread(_remove_folder, folder)
        except OSError as error:
            log.warning("could not delete the saved figures of a forgotten user: %s", error.strerror)
            self.say(
                f"{summary} I could not delete the saved figures in "
                f"{shown_path(folder)}: {error.strerror or 'unknown error'}."
            )
            return
        self.say(f"{summary} Saved figure files deleted: {removed}.")

    async def _as(self, rest: str) -> None:
        name = rest.strip()
        if not name or len(name) > 32 or not name.isprintable():
            raise UserFacingError("Usage: /as NAME (up to 32 printable characters).")
        self.user = name
        self.say(f"You are now {name}.")

    async def _help(self, _rest: str) -> None:
        self.say(HELP)

    async def on_event(self, event: JobEvent) -> None:
        """Tell the terminal what happened to a job."""
        job = event.job
        who = "" if job.requester.user_id == self.user else f"[{job.requester.user_id}] "
        prefix = f"{who}{job.id}:"
        if event.kind is EventKind.STARTED:
            self.say(f"{prefix} painting…")
        elif event.kind is EventKind.PROGRESS:
            self.say(f"{prefix} {round((event.fraction or 0) * 100)}% {event.stage or ''}".rstrip())
        elif event.kind is EventKind.DONE and event.figure is not None:
            path = await asyncio.to_thread(
                self._save, job.requester.user_id, job.id, event.figure, event.figure_format or "png"
            )
            if not await self.engine.exists(job.id):  # its owner used /forget meanwhile
                await asyncio.to_thread(path.unlink, missing_ok=True)
                return
            stand_in = f" (painted by the {job.painted_by} generator instead)" if job.painted_by else ""
            self.say(f"{prefix} done → {path}{stand_in}")
            for note in job.notes:
                self.say(f"{prefix} {note}")
        elif event.kind is EventKind.FAILED:
            self.say(f"{prefix} failed: {event.reason}")
        elif event.kind is EventKind.CANCELLED:
            self.say(f"{prefix} cancelled.")

    def _save(self, user: str, job_id: str, data: bytes, fmt: str) -> Path:
        """Write a finished figure into the user's own folder (which /forget deletes); its path."""
        folder = self.output_dir / user_folder(user)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{job_id}.{'jpg' if fmt == 'jpeg' else fmt}"
        path.write_bytes(data)
        return path

    async def idle(self) -> None:
        """Wait until none of the terminal's figures is waiting, painting or undelivered."""
        while await self.engine.busy(PLATFORM):
            await asyncio.sleep(0.2)


def _remove_folder(folder: Path) -> int:
    """Delete ``folder`` and everything in it; how many files it held (0 if it does not exist)."""
    if not folder.is_dir():
        return 0
    count = sum(len(files) for _, _, files in os.walk(folder))
    shutil.rmtree(folder)
    return count


def _line_editing(stdin: TextIO | None) -> bool:
    """Whether ``stdin`` is a terminal; if so, the standard library's readline is loaded (where Python has
    it), which gives ``input()`` the arrow keys, line editing and history. Piped input is read as it is."""
    try:
        if stdin is None or not stdin.isatty():
            return False
    except (AttributeError, OSError, ValueError):
        return False
    with contextlib.suppress(ImportError):  # e.g. Windows: input() still reads lines, without history
        import readline  # noqa: F401
    return True


def _terminal_mode(stdin: TextIO) -> Callable[[], None]:
    """A way to put the terminal's settings back as they are now: readline changes them while it reads,
    and the chat may end while it still does (after /quit or a signal)."""
    try:
        import termios

        fd = stdin.fileno()
        saved = termios.tcgetattr(fd)
    except (ImportError, AttributeError, OSError, ValueError):
        return lambda: None

    def restore() -> None:
        with contextlib.suppress(OSError, ValueError):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)

    return restore


def _stdin_lines(loop: asyncio.AbstractEventLoop, editing: bool = False) -> asyncio.Queue[str]:
    """Lines typed on stdin ("" at the end), read by a daemon thread so a signal can always stop us; with
    ``editing``, through ``input()`` and so with readline's editing and history.

    Bytes that are not valid in the terminal's encoding become U+FFFD instead of ending the reading, and
    the end marker is always sent, so the chat never waits for input that cannot come any more."""
    lines: asyncio.Queue[str] = asyncio.Queue()

    def post(line: str) -> bool:
        try:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            return False
        return True

    def read() -> None:
        try:
            stdin = sys.stdin
            if stdin is None:
                return
            while editing:
                try:
                    line = input()
                except EOFError:
                    return
                except UnicodeDecodeError:
                    line = "\ufffd"
                if not post(line + "\n"):
                    return
            raw = getattr(stdin, "buffer", None)
            if raw is None:  # a text-only stream
                for line in stdin:
                    if not post(line):
                        return
                return
            encoding = getattr(stdin, "encoding", None) or "utf-8"
            for data in raw:
                if not post(data.decode(encoding, errors="replace")):
                    return
        except Exception:
            log.exception("reading the terminal failed")
        finally:
            post("")

    threading.Thread(target=read, name="stdin", daemon=True).start()
    return lines


def _print(text: str) -> None:
    """Print a line of the chat, even on a terminal whose encoding lacks some of its characters."""
    try:
        print(text, flush=True)
    except UnicodeEncodeError:
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        print(text.encode(encoding, errors="replace").decode(encoding), flush=True)


async def run_terminal(adapter: ConsoleAdapter) -> None:
    """The interactive chat: read commands until /quit or end of input, print what the bot says.

    At the end of piped input it waits for the figures in the works, so ``figurebot chat < script`` works.
    """

    async def show() -> None:
        while True:
            _print(await adapter.said.get())

    printer = asyncio.create_task(show())
    _print("figurebot chat: type /help for commands, /quit to leave.")
    editing = _line_editing(sys.stdin)
    restore = _terminal_mode(sys.stdin) if editing else lambda: None
    lines = _stdin_lines(asyncio.get_running_loop(), editing)
    try:
        while True:
            line = await lines.get()
            if not line:
                await adapter.idle()
                break
            if line.strip().lower() in {"/quit", "/exit"}:
                break
            await adapter.push(line)
    finally:
        restore()
        printer.cancel()
        print_pending(adapter)


def print_pending(adapter: ConsoleAdapter) -> None:
    """Print what the bot said that is not on the screen yet."""
    while not adapter.said.empty():
        _print(adapter.said.get_nowait())
