"""The ``figurebot`` command as a person runs it: real processes, real files, exit codes and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PERSON = ROOT / "examples" / "astronaut.png"


def figurebot(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
        env={**os.environ, **env},
    )


def test_render_writes_the_figure_and_prints_its_path(tmp_path: Path) -> None:
    out = tmp_path / "eileen.png"
    result = figurebot(
        "render",
        str(PERSON),
        "-o",
        str(out),
        "--name",
        "Eileen Collins",
        "--theme",
        "astronaut",
        "--accessories",
        "helmet, rocket",
        "--tagline",
        "To the stars",
        "--style",
        "window",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    with Image.open(out) as image:
        assert (image.format, image.size) == ("PNG", (1024, 1536))


def test_default_output_name_and_format(tmp_path: Path) -> None:
    result = figurebot("render", str(PERSON), "--format", "jpeg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "astronaut-figure.jpg"
    assert result.stdout.strip() == "astronaut-figure.jpg"
    with Image.open(written) as image:
        assert image.format == "JPEG"


def test_refused_photo_exits_3_with_a_readable_message(tmp_path: Path) -> None:
    fake = tmp_path / "holiday.jpg"
    fake.write_text("this is not a picture")
    result = figurebot("render", str(fake), "-o", str(tmp_path / "x.png"))
    assert result.returncode == 3
    assert "Traceback" not in result.stderr and "PIL" not in result.stderr
    assert "JPEG" in result.stderr  # says which formats it takes
    assert not (tmp_path / "x.png").exists()


def test_refused_text_exits_3(tmp_path: Path) -> None:
    result = figurebot("render", str(PERSON), "-o", str(tmp_path / "x.png"), "--name", "N" * 41)
    assert result.returncode == 3
    assert "40" in result.stderr and "Traceback" not in result.stderr


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    assert figurebot("render").returncode == 2
    assert figurebot("render", str(PERSON), "--format", "bmp").returncode == 2
    missing = figurebot("render", str(tmp_path / "nope.jpg"))
    assert missing.returncode == 2
    assert "can't read" in missing.stderr and "Traceback" not in missing.stderr


def test_themes_lists_the_catalog() -> None:
    from bot.themes import catalog

    result = figurebot("themes")
    assert result.returncode == 0
    listed = {line.split()[0] for line in result.stdout.splitlines() if line and not line.startswith("Any")}
    assert listed == set(catalog())
    assert len(listed) >= 12


def test_output_format_follows_the_file_name(tmp_path: Path) -> None:
    result = figurebot("render", str(PERSON), "-o", str(tmp_path / "figure.jpg"))
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "figure.jpg") as image:
        assert image.format == "JPEG"
    clash = figurebot("render", str(PERSON), "-o", str(tmp_path / "figure.jpg"), "--format", "png")
    assert clash.returncode == 2 and "pick one" in clash.stderr
    unknown = figurebot("render", str(PERSON), "-o", str(tmp_path / "figure.gif"))
    assert unknown.returncode == 2 and ".png, .jpg or .webp" in unknown.stderr


def test_special_and_huge_files_are_refused_without_reading_them(tmp_path: Path) -> None:
    device = figurebot("render", "/dev/zero", "-o", str(tmp_path / "x.png"))
    assert device.returncode == 2 and "not a regular file" in device.stderr
    sparse = tmp_path / "huge.jpg"
    with sparse.open("wb") as file:
        file.truncate(3 * 1024**3)
    huge = figurebot("render", str(sparse), "-o", str(tmp_path / "x.png"))
    assert huge.returncode == 3
    assert huge.stderr.strip() == "That file is 3072 MB; the limit is 20 MB."


def test_broken_settings_get_a_readable_message(tmp_path: Path) -> None:
    cases = [
        {"FIGURE_WIDTH": "abc"},
        {"FIGURE_STYLE": "fancy"},
        {"FIGURE_WIDTH": "1536", "FIGURE_HEIGHT": "1024"},
    ]
    for env in cases:
        result = figurebot("render", str(PERSON), "-o", str(tmp_path / "x.png"), **env)
        assert result.returncode == 2, env
        assert "Traceback" not in result.stderr and "a setting is wrong" in result.stderr
    assert "2:3" in result.stderr


def test_same_inputs_give_same_bytes_across_processes(tmp_path: Path) -> None:
    for name in ("a.png", "b.png"):
        result = figurebot(
            "render", str(PERSON), "-o", str(tmp_path / name), "--name", "Zoë 🚀", "--theme", "chef"
        )
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_render_imports_no_platform_library(tmp_path: Path) -> None:
    probe = (
        "import sys; from bot.cli import main; "
        f"code = main(['render', {str(PERSON)!r}, '-o', {str(tmp_path / 'f.png')!r}]); "
        "platforms = {'discord', 'telegram', 'openai', 'sqlalchemy'}; "
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in platforms))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0 []"


# A stand-in for the offline generator: says which variant it was asked for, and returns a note.
NOTING_GENERATOR = """
import sys
from PIL import Image
from bot.generators.base import Painted
from bot.generators.local import LocalGenerator

async def generate(self, photo, spec, on_progress=None, requester=""):
    print("variant", spec.variant)
    return Painted(Image.new("RGB", (64, 96)), notes=("I could not draw: jetpack",))

LocalGenerator.generate = generate
from bot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_variant_reaches_the_generator_and_its_notes_go_to_stderr(tmp_path: Path) -> None:
    out = tmp_path / "f.png"
    args = ["render", str(PERSON), "-o", str(out), "--costume", "jetpack"]
    for extra, variant in (([], 1), (["--variant", "3"], 3)):
        result = subprocess.run(
            [sys.executable, "-c", NOTING_GENERATOR, *args, *extra],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [f"variant {variant}", str(out)]
        assert result.stderr == "I could not draw: jetpack\n"
        assert out.exists()


def test_a_bad_variant_exits_2_and_says_what_it_takes(tmp_path: Path) -> None:
    for value in ("0", "-1", "two", "1.5", ""):
        result = figurebot("render", str(PERSON), "-o", str(tmp_path / "x.png"), f"--variant={value}")
        assert result.returncode == 2, value
        assert "--variant" in result.stderr and "whole number from 1" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.png").exists()
