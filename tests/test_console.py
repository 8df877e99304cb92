"""The console platform: commands typed in, what the bot says back, with odd input of every kind."""

from __future__ import annotations

import asyncio
import logging
import os
import pty
import select
import subprocess
import sys
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from adapters.console import COMMANDS, NOTHING_TO_CANCEL, _line_editing, user_folder
from bot.generators.base import Painted, ProgressCallback
from bot.intake import Photo
from bot.jobs import ACTIVE, EventKind, JobEvent
from bot.spec import FigureSpec
from tests.engine_kit import PERSON, ROOT, ScriptedGenerator, rig

NOT_YOURS = "I can't find that figure among yours."
UNKNOWN = f"I don't know the command /frobnicate. The commands are: {COMMANDS}."
FORGET_ASK = "This deletes every photo, figure and job stored about you"


async def test_figure_command_with_either_caption_form(tmp_path: Path) -> None:
    async with rig(tmp_path, max_active_jobs_per_user=0) as r:
        await r.console.push(f'/figure {PERSON} name=Eileen theme=astronaut accessories="helmet, cat"')
        assert "queued for Eileen (astronaut), position 1." in await r.console.pop()
        await r.said_until(lambda line: "done →" in line)
        await r.console.push(f"/figure {PERSON} Alex | pirate | parrot")
        assert "queued for Alex (pirate)" in await r.console.pop()
        await r.said_until(lambda line: "done →" in line)
        assert r.generator.painted == ["Eileen", "Alex"]


async def test_quoted_paths_with_spaces(tmp_path: Path) -> None:
    spaced = tmp_path / "my photos" / "me.png"
    spaced.parent.mkdir()
    spaced.write_bytes(PERSON.read_bytes())
    async with rig(tmp_path) as r:
        await r.console.push(f'/figure "{spaced}" name=Sam')
        assert "queued for Sam" in await r.console.pop()
        await r.console.push(f'/figure "{spaced} name=Sam')
        assert await r.console.pop() == "The photo path opens a quote but never closes it."


async def test_bad_input_gets_one_clear_line_and_nothing_breaks(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.jpg"
    text_file.write_text("not a photo")
    async with rig(tmp_path) as r:
        answers = {}
        for line in (
            "/figure",
            "/figure /no/such/photo.jpg",
            f"/figure {text_file}",
            f"/figure {PERSON} colour=red",
            f"/figure {PERSON} name={'N' * 41}",
            "hello bot",
            "/frobnicate",
            "/cancel",
            "/reroll",
            "/as",
        ):
            await r.console.push(line)
            answers[line] = await r.console.pop()
        assert answers["/figure"].startswith("Tell me which photo")
        assert (
            answers["/figure /no/such/photo.jpg"]
            == "I can't read /no/such/photo.jpg: No such file or directory."
        )
        assert answers[f"/figure {text_file}"].startswith("That file is not a photo I can read.")
        assert "I don't know the option 'colour'" in answers[f"/figure {PERSON} colour=red"]
        assert "the limit is 40" in answers[f"/figure {PERSON} name={'N' * 41}"]
        assert answers["hello bot"] == "I only understand commands here. Type /help to see them."
        assert answers["/frobnicate"] == UNKNOWN
        assert answers["/cancel"] == NOTHING_TO_CANCEL
        assert answers["/reroll"] == "You have no figure to do that with yet. Start one with /figure PATH."
        assert answers["/as"].startswith("Usage: /as NAME")
        await r.console.push(f"/figure {PERSON} name=Still Works")
        assert "queued for Still Works" in await r.console.pop()
        await r.said_until(lambda line: "done →" in line)


async def test_impossible_paths_get_one_sentence_and_the_chat_goes_on(tmp_path: Path) -> None:
    missing = "/no/such/" + "d" * 200 + "/photo.jpg"
    async with rig(tmp_path) as r:
        await r.console.push(f"/figure {tmp_path}/me\x00.jpg name=Nul")
        assert await r.console.pop() == (
            "I can't read that path: it contains a NUL character, which no file name can."
        )
        await r.console.push('/figure "~\x00nul/me.jpg"')
        assert (await r.console.pop()).startswith("I can't read that path:")
        await r.console.push("/figure ~figurebot-no-such-user-7f3a/x.jpg")
        assert await r.console.pop() == (
            "I can't read that path: I can't find the home folder of ~figurebot-no-such-user-7f3a."
        )
        await r.console.push(f"/figure {missing}")
        assert await r.console.pop() == f"I can't read {missing[:80]}…: No such file or directory."
        await r.console.push(f"/figure {PERSON} name=Still Works")
        assert "queued for Still Works" in await r.console.pop()


async def test_no_command_can_crash_the_chat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(_rest: str) -> None:
        raise KeyError("a bug")

    async with rig(tmp_path) as r:
        for line in (
            "\x00",
            "/\x00",
            "/figure \x00",
            "/as \x00",
            "/cancel \udcff",
            "/reroll \ud800 x",
            " \t ",
        ):
            await r.console.push(line)
        while not r.console.said.empty():
            assert "went wrong" not in r.console.said.get_nowait()
        monkeypatch.setattr(r.console, "_themes", broken)
        with caplog.at_level(logging.ERROR, logger="figurebot.console"):
            await r.console.push("/themes")
        assert await r.console.pop() == "Something went wrong with that command; please try again."
        assert any(record.exc_info and record.name == "figurebot.console" for record in caplog.records)
        await r.console.push("/help")
        assert "/figure PATH [caption]" in await r.console.pop()


def test_invalid_utf8_on_stdin_does_not_hang_the_terminal_chat(tmp_path: Path) -> None:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("FIGURE", "PHOTO", "WORKER"))
    }
    env.update(FIGUREBOT_DATA_DIR=str(tmp_path / "data"), PYTHONIOENCODING="utf-8:strict")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        cwd=ROOT,
        env=env,
        input=b"\xff\xfe garbage\n/help\n/figure " + bytes(PERSON) + b" name=Ann\n",
        capture_output=True,
        timeout=60,  # only a guard against hanging: the chat ends within a few seconds
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    output = result.stdout.decode()
    assert "I only understand commands here." in output
    assert "/figure PATH [caption]" in output
    done = [line for line in output.splitlines() if ": done → " in line]
    assert len(done) == 1 and saved(done[0]).read_bytes().startswith(b"\x89PNG")
    assert saved(done[0]).parent == tmp_path / "data" / "figures" / user_folder("you")


async def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "huge.jpg"
    with big.open("wb") as file:
        file.truncate(3 * 1024 * 1024)
    async with rig(tmp_path, photo_max_mb=2) as r:
        await r.console.push(f"/figure {big}")
        assert await r.console.pop() == "That file is 3 MB; the limit is 2 MB."


def job_of(lines: list[str], name: str) -> str:
    """The job id in the "queued for NAME" line."""
    return next(line.split(":")[0] for line in lines if f"queued for {name} " in line)


def saved(line: str) -> Path:
    """The file named in a "JOB: done → PATH" line."""
    return Path(line.split(" → ", 1)[1])


@dataclass
class GatedGenerator(ScriptedGenerator):
    """Paints nothing until ``gate`` opens, so a job stays "painting now" for as long as a test needs."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def generate(
        self,
        photo: Photo,
        spec: FigureSpec,
        on_progress: ProgressCallback | None = None,
        requester: str = "",
    ) -> Image.Image | Painted:
        await self.gate.wait()
        return await super().generate(photo, spec, on_progress, requester)


async def test_queue_cancel_reroll_and_forget(tmp_path: Path) -> None:
    generator = GatedGenerator()
    async with rig(tmp_path, generator) as r:
        await r.console.push(f"/figure {PERSON} name=One theme=pirate")
        await r.console.push(f"/figure {PERSON} name=Two theme=pirate")
        lines = await r.said_until(lambda line: "queued for Two" in line)
        first, second = job_of(lines, "One"), job_of(lines, "Two")
        if f"{first}: painting…" not in lines:
            await r.said_until(lambda line: line == f"{first}: painting…")
        await r.console.push("/queue")
        assert await r.console.pop() == f"{first}: One (pirate), painting now."
        assert await r.console.pop() == f"{second}: Two (pirate), position 1."
        await r.console.push(f"/cancel {second}")
        await r.said_until(lambda line: line == f"{second}: cancelled.")
        generator.gate.set()
        done = await r.said_until(lambda line: line.startswith(f"{first}: done →"))
        await r.console.push(f"/reroll {first} name=Three")
        assert f"re-roll of {first} queued" in await r.console.pop()
        done += await r.said_until(lambda line: "done →" in line)
        assert generator.painted == ["One", "Three"]
        files = [saved(line) for line in done if "done →" in line]
        assert len(files) == 2
        for file in files:
            assert file.parent == r.console.output_dir / user_folder("you")
            assert file.read_bytes().startswith(b"\x89PNG")
        await r.console.push("/forget")
        assert (await r.console.pop()).startswith(FORGET_ASK)
        assert all(file.is_file() for file in files)
        await r.console.push("/forget yes")
        assert (
            await r.console.pop()
            == "Forgotten. Deleted: 2 photos, 2 figures, 3 jobs. Saved figure files deleted: 2."
        )
        assert not files[0].parent.exists()


async def test_figures_are_saved_per_user_and_forget_deletes_only_yours(tmp_path: Path) -> None:
    async with rig(tmp_path, max_active_jobs_per_user=0) as r:
        output = r.console.output_dir
        paths = {}
        for user in ("../x/..", "bob"):
            await r.console.push(f"/as {user}")
            await r.console.push(f"/figure {PERSON} name=Fig")
            paths[user] = saved((await r.said_until(lambda line: "done →" in line))[-1])
            assert paths[user].is_file() and paths[user].parent.parent == output
        assert paths["../x/.."].parent != paths["bob"].parent
        assert sorted(output.iterdir()) == sorted(path.parent for path in paths.values())
        await r.console.push("/as ../x/..")
        assert await r.console.pop() == "You are now ../x/..."
        await r.console.push("/forget yes")
        assert (await r.console.pop()).endswith(" Saved figure files deleted: 1.")
        assert not paths["../x/.."].exists() and paths["bob"].is_file()
        await r.console.push("/forget YES")
        assert (await r.console.pop()).endswith(" Saved figure files deleted: 0.")


def test_user_folders_are_plain_distinct_names() -> None:
    names = ["you", "You", "..", ".", "/", "a/b", "a-b", "a b", "~", "-x", "Ünï", "\udcff", "x" * 32]
    folders = [user_folder(name) for name in names]
    assert len(set(folders)) == len(names)
    for folder in folders:
        assert folder.isascii() and folder.replace("-", "").replace("_", "").isalnum()
        assert not folder.startswith("-") and len(folder) <= 40


async def test_a_figure_finishing_while_its_owner_is_forgotten_leaves_no_file(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False) as r:
        await r.console.push(f"/figure {PERSON} name=Gone")
        job = await r.store.jobs.get((await r.console.pop()).split(":")[0])
        await r.console.push("/forget yes")
        assert (await r.console.pop()).endswith(" Saved figure files deleted: 0.")
        await r.console.on_event(JobEvent(EventKind.DONE, job, figure=b"\x89PNG...", figure_format="png"))
        assert r.console.said.empty()
        assert not any(path.is_file() for path in r.console.output_dir.rglob("*"))


async def test_a_mistyped_job_is_refused_not_replaced_by_the_latest(tmp_path: Path) -> None:
    async with rig(tmp_path, start=False, max_active_jobs_per_user=0) as r:
        await r.console.push(f"/figure {PERSON} name=Kept")
        job = (await r.console.pop()).split(":")[0]
        unknown = "0123456789abcdef"
        assert unknown != job
        for line in (f"/cancel {unknown}", f"/reroll {unknown}", f"/reroll {unknown} name=Other"):
            await r.console.push(line)
            assert await r.console.pop() == NOT_YOURS
        for line in ("/cancel oops", f"/cancel {job} oops", f"/cancel {job.upper()}", "/cancel name=Kept"):
            await r.console.push(line)
            assert await r.console.pop() == "Usage: /cancel [JOB]"
        assert (await r.store.jobs.get(job)).status in ACTIVE
        assert await r.store.jobs.active("console", "you") == [await r.store.jobs.get(job)]
        await r.console.push("/reroll Newname")  # not shaped like a job: the caption for the latest
        rerolled = (await r.console.pop()).split(":")[0]
        assert (await r.store.jobs.get(rerolled)).spec.name == "Newname"
        await r.console.push(f"/cancel {job}")
        assert await r.console.pop() == f"{job}: cancelled."


async def test_as_switches_user_and_others_see_their_own_jobs(tmp_path: Path) -> None:
    async with rig(tmp_path, ScriptedGenerator(delay=30)) as r:
        await r.console.push("/as bob")
        assert await r.console.pop() == "You are now bob."
        await r.console.push(f"/figure {PERSON} name=Bob")
        lines = await r.said_until(lambda line: "queued for Bob" in line)
        job = job_of(lines, "Bob")
        if f"{job}: painting…" not in lines:
            await r.said_until(lambda line: line == f"{job}: painting…")
        await r.console.push("/as alice")
        assert await r.console.pop() == "You are now alice."
        await r.console.push(f"/cancel {job}")
        assert await r.console.pop() == NOT_YOURS
        await r.console.push(f"/reroll {job}")
        assert await r.console.pop() == NOT_YOURS
        assert (await r.store.jobs.get(job)).status in ACTIVE
        assert r.console.said.empty()


async def test_help_themes_and_privacy(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.console.push("/help")
        help_text = await r.console.pop()
        assert "/figure PATH [caption]" in help_text
        assert "\n  /quit " in help_text
        assert "\n  /forget yes " in help_text and "/forget alone asks first" in help_text
        await r.console.push("/themes")
        assert "Astronaut" in await r.console.pop()
        await r.console.push("/privacy")
        notice = await r.console.pop()
        assert "stays on this bot's own machines" in notice and "/forget" in notice


async def test_consent_flow_for_a_generator_that_sends_photos_away(tmp_path: Path) -> None:
    generator = ScriptedGenerator(sends_photo_off_machine=True)
    async with rig(tmp_path, generator) as r:
        await r.console.push(f"/figure {PERSON} name=Ann")
        notice = await r.console.pop()
        assert "sent to the scripted image service" in notice and "Type /accept" in notice
        await r.console.push("/accept")
        assert await r.console.pop() == "Thanks: the privacy notice is accepted."
        await r.console.push(f"/figure {PERSON} name=Ann")
        assert "queued for Ann" in await r.console.pop()


async def test_reroll_makes_the_next_variant_and_notes_follow_the_figure(tmp_path: Path) -> None:
    generator = ScriptedGenerator(notes=("I could not draw: jetpack",))
    async with rig(tmp_path, generator, max_active_jobs_per_user=0) as r:
        await r.console.push(f"/figure {PERSON} name=Alex costume=jetpack")
        first = (await r.console.pop()).split(":")[0]
        said = await r.said_until(lambda line: "jetpack" in line)
        assert said[-2].startswith(f"{first}: done → ")
        assert said[-1] == f"{first}: I could not draw: jetpack"
        for command in (f"/reroll {first}", f"/reroll {first}", "/reroll name=Sam"):
            await r.console.push(command)
            await r.said_until(lambda line: "jetpack" in line)
        assert [(spec.name, spec.variant) for spec in generator.specs] == [
            ("Alex", 1),
            ("Alex", 2),
            ("Alex", 3),
            ("Sam", 4),
        ]


async def test_an_unknown_command_is_named_and_the_commands_listed(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.console.push("/frobnicate now")
        assert await r.console.pop() == UNKNOWN
        await r.console.push("/\x1b[A")
        assert (await r.console.pop()).startswith("I don't know the command /?[A. The commands are: ")


async def test_an_unquoted_path_with_spaces_gets_a_hint_to_quote_it(tmp_path: Path) -> None:
    spaced = tmp_path / "my photos" / "me.png"
    spaced.parent.mkdir()
    spaced.write_bytes(PERSON.read_bytes())
    first_word = str(tmp_path / "my")
    async with rig(tmp_path) as r:
        await r.console.push(f"/figure {spaced} name=Sam")
        assert await r.console.pop() == (
            f"I can't read {first_word}: No such file or directory. "
            f'A path with spaces goes in quotes: /figure "{spaced}" name=Sam'
        )
        await r.console.push(f"/figure {spaced}")
        assert (await r.console.pop()).endswith(f'A path with spaces goes in quotes: /figure "{spaced}"')
        await r.console.push(f"/figure {tmp_path}/no such/me.png Sam | pirate")
        assert await r.console.pop() == (
            f"I can't read {tmp_path}/no: No such file or directory. "
            'If the path has spaces, put it in quotes, e.g. /figure "my photos/me.jpg"'
        )
        await r.console.push(f"/figure {PERSON} name=Sam")  # a path without spaces is read as before
        assert "queued for Sam" in await r.console.pop()


async def test_cancel_with_nothing_in_the_works_says_so_after_figures_were_made(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.console.push(f"/figure {PERSON} name=Done")
        await r.said_until(lambda line: "done →" in line)
        await r.console.push("/cancel")
        assert await r.console.pop() == NOTHING_TO_CANCEL


async def test_forget_asks_first_and_deletes_only_on_forget_yes(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.console.push(f"/figure {PERSON} name=Kept")
        figure = saved((await r.said_until(lambda line: "done →" in line))[-1])
        for line in ("/forget", "/forget no", "/forget yes please"):
            await r.console.push(line)
            asked = await r.console.pop()
            assert asked.startswith(FORGET_ASK) and asked.endswith("To go ahead, type /forget yes")
            assert figure.is_file() and await r.store.jobs.active("console", "you") == []
            assert await r.console.engine.latest_job(r.console.requester) is not None
        await r.console.push("/forget yes")
        assert (await r.console.pop()).endswith(" Saved figure files deleted: 1.")
        assert not figure.exists() and await r.console.engine.latest_job(r.console.requester) is None


def chat_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("FIGURE", "PHOTO", "WORKER"))
    }
    env.update(FIGUREBOT_DATA_DIR=str(tmp_path / "data"))
    return env


def test_the_terminal_chat_commands_through_piped_input(tmp_path: Path) -> None:
    spaced = tmp_path / "my photos" / "me.png"
    spaced.parent.mkdir()
    spaced.write_bytes(PERSON.read_bytes())
    script = f"/frobnicate\n/figure {spaced} name=Ann\n/cancel\n/help\n/forget\n/forget yes\n/quit\n/themes\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"],
        cwd=ROOT,
        env=chat_env(tmp_path),
        input=script.encode(),
        capture_output=True,
        timeout=60,  # only a guard against hanging
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    lines = result.stdout.decode().splitlines()
    assert UNKNOWN in lines
    assert f'A path with spaces goes in quotes: /figure "{spaced}" name=Ann' in lines[2]
    assert NOTHING_TO_CANCEL in lines
    assert "  /quit                    leave the chat" in lines
    asked = next(index for index, line in enumerate(lines) if line.startswith(FORGET_ASK))
    assert lines[asked + 1].startswith("Forgotten. Deleted: nothing")
    assert not any("Astronaut" in line for line in lines)  # nothing is read after /quit


def test_line_editing_is_set_up_for_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "readline", raising=False)
    reader, writer = os.pipe()
    with os.fdopen(reader) as pipe:
        assert not _line_editing(pipe) and "readline" not in sys.modules
    os.close(writer)
    assert not _line_editing(None)
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave) as terminal:
            assert _line_editing(terminal) and "readline" in sys.modules
    finally:
        os.close(master)


def test_the_up_arrow_recalls_the_last_line_and_the_terminal_is_left_as_it_was(tmp_path: Path) -> None:
    """Through a pseudo-terminal: readline's history answers the Up arrow (without it the chat gets
    ``^[[A``), and its terminal settings are undone when the chat ends while it still reads."""
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    chat = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat"],
        cwd=ROOT,
        env={**chat_env(tmp_path), "TERM": "dumb"},
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    shown = b""

    def read_until(text: bytes, count: int = 1) -> None:
        nonlocal shown
        deadline = time.monotonic() + 30  # only a guard against hanging
        while shown.count(text) < count and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                shown += os.read(master, 65536)
        assert shown.count(text) >= count, shown.decode(errors="replace")

    try:
        read_until(b"/quit to leave.")
        os.write(master, b"/themes\r")
        read_until(b"Themes: Astronaut")
        os.write(master, b"\x1b[A\r")
        read_until(b"Themes: Astronaut", 2)
        os.write(master, b"/quit\r")
        assert chat.wait(timeout=30) == 0
        assert b"I only understand commands" not in shown
        assert termios.tcgetattr(slave) == before
    finally:
        if chat.poll() is None:
            chat.kill()
            chat.wait()
        os.close(master)
        os.close(slave)
