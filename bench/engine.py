"""Benchmark of the job engine: throughput, core CPU per job, fairness, and memory with a deep queue.

Run with ``python bench/engine.py``. A generator with fixed latency L and concurrency C paints
nothing but waits, so everything measured besides the waiting is the engine's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet
from PIL import Image

from bot.config import Settings
from bot.engine import JobEngine
from bot.intake import Photo
from bot.jobs import EventKind, JobEvent, Requester
from bot.privacy import Vault
from bot.spec import FigureSpec
from bot.store.repository import Store


@dataclass
class LatencyGenerator:
    """Waits ``latency`` seconds per figure, ``concurrency`` at a time, and returns a tiny image."""

    latency: float
    concurrency: int
    name: str = "bench"
    sends_photo_off_machine: bool = False
    daily_quota_per_user: int = 10**6
    daily_quota_per_chat: int = 10**6
    cost_estimate_usd: float = 0.0

    async def generate(
        self, photo: Photo, spec: FigureSpec, on_progress=None, requester: str = ""
    ) -> Image.Image:
        await asyncio.sleep(self.latency)
        return Image.new("RGB", (32, 48), (10, 20, 30))


@dataclass(frozen=True)
class PreEncodedPhoto(Photo):
    """A photo whose stored form is given bytes (so the benchmark can queue large photos quickly)."""

    stored: bytes = b""

    def encode(self, fmt: str = "PNG") -> bytes:
        return self.stored


@dataclass
class Recorder:
    """Records when each job started and was delivered."""

    started: dict[str, float] = field(default_factory=dict)
    delivered: dict[str, float] = field(default_factory=dict)
    all_done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    async def __call__(self, event: JobEvent) -> None:
        if event.kind is EventKind.STARTED:
            self.started[event.job.id] = time.perf_counter()
        elif event.kind is EventKind.DONE:
            self.delivered[event.job.id] = time.perf_counter()
            if len(self.delivered) == self.expected:
                self.all_done.set()


def settings(folder: Path, concurrency: int) -> Settings:
    return Settings(
        _env_file=None,
        figurebot_data_dir=folder,
        figurebot_generator="bench",
        worker_concurrency=2 * concurrency,  # spare workers store and deliver while others paint
        max_active_jobs_per_user=0,
        purge_interval=3600,
        photo_retention=3600,
    )


async def open_engine(folder: Path, generator: LatencyGenerator) -> tuple[JobEngine, Store]:
    config = settings(folder, generator.concurrency)
    store = await Store.open(config.database, Vault(Fernet.generate_key()))
    return JobEngine(store, {"bench": generator}, config), store


def small_photo() -> Photo:
    return Photo(Image.new("RGB", (256, 256), (120, 90, 60)), "bench")


def requests(requesters: int, jobs: int, heavy: int) -> list[Requester]:
    """One heavy requester submitting ``heavy`` jobs first, then the others' jobs spread evenly."""
    order = [Requester("bench", "heavy", "chat")] * heavy
    light = [Requester("bench", f"light{i}", "chat") for i in range(requesters - 1)]
    order += [light[i % len(light)] for i in range(jobs - heavy)]
    return order


def ideal_starts(order: list[Requester], latency: float, concurrency: int) -> dict[int, float]:
    """Start times under perfect round-robin: by turn, then submission order; C jobs per L seconds."""
    turns: dict[str, int] = {}
    ranked = []
    for index, requester in enumerate(order):
        turns[requester.user_id] = turns.get(requester.user_id, 0) + 1
        ranked.append((turns[requester.user_id], index))
    return {index: (rank // concurrency) * latency for rank, (_, index) in enumerate(sorted(ranked))}


@dataclass(frozen=True)
class RunFigures:
    ratio: float
    cpu_ms: float
    p95: float
    bound: float
    median_wait: float


async def one_run(latency: float, concurrency: int) -> RunFigures:
    """500 jobs through a fresh engine; throughput, CPU per job and the light requesters' waits."""
    generator = LatencyGenerator(latency, concurrency)
    order = requests(requesters=100, jobs=500, heavy=100)
    with tempfile.TemporaryDirectory() as folder:
        engine, store = await open_engine(Path(folder), generator)
        recorder = Recorder(expected=len(order))
        engine.subscribe("bench", recorder)
        photo = small_photo()
        ids = [(await engine.submit(requester, photo, FigureSpec())).job_id for requester in order]
        cpu_before, start = time.process_time(), time.perf_counter()
        await engine.start()
        await recorder.all_done.wait()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_before
        await engine.stop()
        await store.close()
    ideal = ideal_starts(order, latency, concurrency)
    light = [i for i, requester in enumerate(order) if requester.user_id != "heavy"]
    waits = sorted(recorder.started[ids[i]] - start for i in light)
    bounds = sorted(ideal[i] + latency for i in light)
    return RunFigures(
        ratio=(len(order) / elapsed) / (concurrency / latency),
        cpu_ms=cpu / len(order) * 1000,
        p95=waits[int(len(waits) * 0.95) - 1],
        bound=bounds[int(len(bounds) * 0.95) - 1],
        median_wait=statistics.median(waits),
    )


async def throughput_and_fairness(latency: float, concurrency: int, runs: int = 5) -> None:
    """Several runs (a shared machine's noise is large); the median of each figure and its range."""
    figures = [await one_run(latency, concurrency) for _ in range(runs)]

    def spread(name: str, fmt: str) -> str:
        values = sorted(getattr(run, name) for run in figures)
        return f"{statistics.median(values):{fmt}} (runs: {values[0]:{fmt}} to {values[-1]:{fmt}})"

    p95_over_bound = sorted(run.p95 / run.bound for run in figures)
    print(f"engine: L={latency * 1000:.0f} ms, C={concurrency}, 500 jobs from 100 requesters (one sends 100)")
    print(f"  median of {runs} runs")
    print(f"  throughput as a ratio to C/L: {spread('ratio', '.3f')} (goal >= 0.95)")
    print(f"  core CPU per job outside the generator, ms: {spread('cpu_ms', '.2f')} (goal <= 3 ms)")
    ratio, bound = statistics.median(p95_over_bound), figures[0].bound
    print(f"  light requesters' p95 wait, s: {spread('p95', '.2f')}; fair-share bound {bound:.2f} s")
    print(f"  p95 wait over the fair-share bound: {ratio:.2f}")
    print(f"  light requesters' median wait, s: {spread('median_wait', '.2f')}")


def five_megabyte_jpeg() -> bytes:
    noise = Image.merge("RGB", [Image.effect_noise((2048, 1536), 120) for _ in range(3)])
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=97)
    return buffer.getvalue()


async def deep_queue(jobs: int) -> None:
    """Queue ``jobs`` jobs holding ~5 MB photos, run the engine a little, print the peak RSS."""
    generator = LatencyGenerator(latency=0.05, concurrency=2)
    data = five_megabyte_jpeg()
    with Image.open(io.BytesIO(data)) as image:
        photo = PreEncodedPhoto(image.convert("RGB"), "bench", stored=data)
    with tempfile.TemporaryDirectory() as folder:
        engine, store = await open_engine(Path(folder), generator)
        for i in range(jobs):
            await engine.submit(Requester("bench", f"user{i % 100}", "chat"), photo, FigureSpec())
        queued_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        await engine.start()
        await asyncio.sleep(3)
        await engine.stop(grace=1)
        size = (Path(folder) / "figurebot.db").stat().st_size
        await store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {jobs} queued jobs with {len(data) / 1e6:.1f} MB photos ({size / 1e9:.1f} GB in the store):")
    print(f"  peak RSS {peak:.0f} MB working through them (goal <= 300 MB), {queued_peak:.0f} MB once queued")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.05, help="generator latency L in seconds")
    parser.add_argument("--concurrency", type=int, default=4, help="generator concurrency C")
    parser.add_argument("--deep-queue", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.deep_queue:
        asyncio.run(deep_queue(args.deep_queue))
        return
    asyncio.run(throughput_and_fairness(args.latency, args.concurrency))
    # a fresh process, so the peak RSS is that of the deep queue alone
    subprocess.run([sys.executable, __file__, "--deep-queue", "1000"], check=True)


if __name__ == "__main__":
    main()
