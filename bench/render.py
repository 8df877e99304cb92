"""Benchmark of the offline render: stage medians, whole render, ratio to a Pillow baseline, peak RSS.

Run with ``python bench/render.py``; it pins itself to one core and prints its figures.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops

from bot.boxart.compose import figure_limit
from bot.figure.exposure import corrected
from bot.figure.outfit import outfit_for
from bot.figure.pose import pose_for
from bot.figure.segmentation.person import find_person
from bot.figure.toy import Held, build_person
from bot.generators.local import LocalGenerator
from bot.intake import accept_photo
from bot.output import encode_figure
from bot.spec import make_spec
from bot.themes import find_theme

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "astronaut.png"
RUNS = 15
SIZE = (1024, 1536)


def median_ms(action: Callable[[], object], runs: int = RUNS) -> float:
    """Median wall time of ``action`` in milliseconds, after one warm-up call."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def twelve_megapixel_jpeg() -> bytes:
    """A 4000x3000 JPEG of the sample person with sensor-like grain, about as heavy as a phone photo."""
    with Image.open(SAMPLE) as image:
        person = image.convert("RGB").resize((3000, 3000), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (4000, 3000), (86, 120, 150))
    canvas.paste(person, (500, 0))
    grain = Image.effect_noise(canvas.size, 7).convert("RGB")
    canvas = ImageChops.add(canvas, grain, offset=-128)
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def baseline(data: bytes) -> None:
    """Plain Pillow: decode the photo, resize it to the output size, encode the output format."""
    with Image.open(io.BytesIO(data)) as image:
        encode_figure(image.convert("RGB").resize(SIZE, Image.Resampling.BICUBIC), "png")


def bench_photo(label: str, data: bytes) -> None:
    """Print stage medians, the whole render and its ratio to the baseline for one photo."""
    generator = LocalGenerator(SIZE)
    spec = make_spec(name="Eileen Collins", theme="astronaut", tagline="To the stars and back")
    photo = accept_photo(data)
    cutout = find_person(photo.image)
    assert cutout.face is not None, "the benchmark photo needs a face"
    limit = figure_limit(spec.style, SIZE)
    dressing = outfit_for(find_theme(spec.theme), spec.costume)
    held = Held("Rocket", "🚀", (255, 122, 0))
    figure = generator.toy(photo, spec)
    boxed = generator.box(figure, spec)
    stages = {
        "intake (decode, clean)": lambda: accept_photo(data),
        "segmentation (person, face)": lambda: find_person(photo.image),
        "exposure check": lambda: corrected(photo.image),
        "toy figure (head, body, costume)": lambda: build_person(
            photo.image, cutout.mask, cutout.face, dressing.outfit, pose_for(1), held, limit
        ),
        "box art": lambda: generator.box(figure, spec),
        "encode png": lambda: encode_figure(boxed, "png"),
    }
    whole = median_ms(lambda: encode_figure(generator.render(accept_photo(data), spec), "png"))
    base = median_ms(lambda: baseline(data))
    print(f"\n{label} ({len(data) / 1e6:.1f} MB)")
    for name, action in stages.items():
        print(f"  {name:<34} {median_ms(action):7.1f} ms")
    print(f"  {'whole render 1024x1536 png':<34} {whole:7.1f} ms")
    print(f"  {'baseline (Pillow decode+resize+encode)':<34} {base:7.1f} ms")
    print(f"  {'ratio whole / baseline':<34} {whole / base:7.2f}")


def figurebot_command() -> str:
    """The installed ``figurebot`` script, preferring the one beside this Python."""
    beside = Path(sys.executable).with_name("figurebot")
    return str(beside) if beside.exists() else shutil.which("figurebot") or "figurebot"


def figurebot_process(photo: Path, runs: int) -> float:
    """Median wall time of a whole ``figurebot render`` process, start to exit, in milliseconds."""
    with tempfile.TemporaryDirectory() as folder:
        argv = [
            figurebot_command(),
            "render",
            str(photo),
            "-o",
            str(Path(folder) / "figure.png"),
            "--theme",
            "astronaut",
        ]
        return median_ms(lambda: subprocess.run(argv, check=True, capture_output=True), runs=runs)


def render_peak_rss_mb(photo: Path, out: Path) -> float:
    """Peak RSS of one ``figurebot render`` process, read by a tiny launcher process."""
    launcher = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    argv = [sys.executable, "-S", "-c", launcher, figurebot_command(), "render", str(photo), "-o", str(out)]
    result = subprocess.run(argv, check=True, capture_output=True, text=True)
    return int(result.stdout) / 1024


def main() -> None:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    print(f"figurebot render benchmark: one core, median of {RUNS} runs after a warm-up")
    big = twelve_megapixel_jpeg()
    bench_photo("sample photo examples/astronaut.png", SAMPLE.read_bytes())
    bench_photo("12 MP JPEG (4000x3000)", big)
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this benchmark process: {own_peak:.0f} MB")
    sample_ms = figurebot_process(SAMPLE, 5)
    print(f"`figurebot render` of the sample, start to exit: {sample_ms:.0f} ms (median of 5)")
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "12mp.jpg"
        photo.write_bytes(big)
        elapsed = figurebot_process(photo, 3)
        peak = render_peak_rss_mb(photo, Path(folder) / "figure.png")
    print(f"`figurebot render` of the 12 MP JPEG, start to exit: {elapsed:.0f} ms; peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
