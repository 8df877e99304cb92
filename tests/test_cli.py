"""The ``figurebot`` command as a person runs it: real processes, real files, exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PERSON = ROOT / "examples" / "astronaut.png"


def figurebot(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=120
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
    assert "cannot read" in missing.stderr and "Traceback" not in missing.stderr


def test_themes_lists_the_catalog() -> None:
    result = figurebot("themes")
    assert result.returncode == 0
    for key in (
        "astronaut",
        "punk",
        "superhero",
        "office",
        "wizard",
        "knight",
        "pirate",
        "detective",
        "chef",
        "rock",
        "gamer",
        "scientist",
    ):
        assert key in result.stdout.lower()


def test_render_imports_no_platform_library(tmp_path: Path) -> None:
    probe = (
        "import sys; from bot.cli import main; "
        f"code = main(['render', {str(PERSON)!r}, '-o', {str(tmp_path / 'f.png')!r}]); "
        "platforms = {'discord', 'telegram', 'openai', 'sqlalchemy'}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in platforms))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
