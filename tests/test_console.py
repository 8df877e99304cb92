"""The console platform: commands typed in, what the bot says back, with odd input of every kind."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from adapters.console import user_folder
from bot.generators.base import Painted, ProgressCallback
from bot.intake import Photo
from bot.jobs import ACTIVE, EventKind, JobEvent
from bot.spec import FigureSpec
from tests.engine_kit import PERSON, ROOT, ScriptedGenerator, rig

NOT_YOURS = "I can't find that figure among yours."


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
        assert (
            answers["hello bot"]
            == answers["/frobnicate"]
            == "I only understand commands here. Type /help to see them."
        )
        assert (
            answers["/cancel"]
            == answers["/reroll"]
            == ("You have no figure to do that with yet. Start one with /figure PATH.")
        )
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
        await r.console.push("/forget")
        assert (await r.console.pop()).endswith(" Saved figure files deleted: 1.")
        assert not paths["../x/.."].exists() and paths["bob"].is_file()
        await r.console.push("/forget")
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
        await r.console.push("/forget")
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
        assert "/figure PATH [caption]" in await r.console.pop()
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
