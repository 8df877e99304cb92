"""The console platform: commands typed in, what the bot says back, with odd input of every kind."""

from __future__ import annotations

from pathlib import Path

from tests.engine_kit import PERSON, ScriptedGenerator, rig


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


async def test_queue_cancel_reroll_and_forget(tmp_path: Path) -> None:
    generator = ScriptedGenerator(delay=0.4)
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
        await r.said_until(lambda line: line.startswith(f"{first}: done →"))
        await r.console.push(f"/reroll {first} name=Three")
        assert f"re-roll of {first} queued" in await r.console.pop()
        await r.said_until(lambda line: "done →" in line)
        assert generator.painted == ["One", "Three"]
        await r.console.push("/forget")
        assert await r.console.pop() == (
            "Forgotten. Deleted: 2 photos, 2 figures, 3 jobs, 0 consents, 0 user settings."
        )


async def test_as_switches_user_and_others_see_their_own_jobs(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.console.push("/as bob")
        assert await r.console.pop() == "You are now bob."
        await r.console.push(f"/figure {PERSON} name=Bob")
        job = (await r.console.pop()).split(":")[0]
        await r.console.push("/as alice")
        await r.console.pop()
        await r.console.push(f"/cancel {job}")
        lines = await r.said_until(lambda line: "can't find" in line or "no figure" in line or "done" in line)
        assert any("no figure" in line or "can't find" in line for line in lines)


async def test_help_themes_and_privacy(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.console.push("/help")
        assert "/figure PATH [caption]" in await r.console.pop()
        await r.console.push("/themes")
        assert "Astronaut" in await r.console.pop()
        await r.console.push("/privacy")
        notice = await r.console.pop()
        assert "never leaves this server" in notice and "/forget" in notice


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
