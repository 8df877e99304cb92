"""The offline generator: cut the person out, make them a plastic toy, and box them. No key, no network."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from PIL import Image

from bot.boxart.compose import Anchor, box_text, compose_box, figure_limit
from bot.generators.base import Progress, ProgressCallback
from bot.generators.segmentation import find_person
from bot.generators.toy import make_toy, subject_box
from bot.intake import Photo
from bot.spec import FigureSpec
from bot.themes import find_theme


@dataclass(frozen=True)
class Figure:
    """The moulded toy before boxing, and where it sits in the window."""

    image: Image.Image
    is_person: bool
    anchor: Anchor


class LocalGenerator:
    """Renders figures on this machine's CPU with bundled models and fonts."""

    name = "local"
    sends_photo_off_machine = False
    concurrency: int | None = None
    daily_quota_per_user = 100
    daily_quota_per_chat = 1000
    cost_estimate_usd = 0.0

    def __init__(self, size: tuple[int, int] = (1024, 1536)) -> None:
        self.size = size

    def toy(self, photo: Photo, spec: FigureSpec) -> Figure:
        """The cut-out plastic figure, sized for the window of the spec's box style."""
        cutout = find_person(photo.image)
        image = make_toy(photo.image, cutout, figure_limit(spec.style, self.size))
        if not cutout.person_found:
            return Figure(image, False, "centre")
        cut_off = subject_box(cutout.mask)[3] >= cutout.mask.height - 1
        return Figure(image, True, "bottom" if cut_off else "floor")

    def box(self, figure: Figure, spec: FigureSpec) -> Image.Image:
        """``figure`` packed in the box of the spec's theme and style."""
        theme = find_theme(spec.theme)
        text = box_text(spec.name, spec.tagline, spec.accessories, theme)
        return compose_box(figure.image, theme, text, spec.style, self.size, figure.anchor)

    def render(self, photo: Photo, spec: FigureSpec) -> Image.Image:
        """The whole figure in one synchronous call (used by the command line and benchmarks)."""
        return self.box(self.toy(photo, spec), spec)

    async def generate(
        self,
        photo: Photo,
        spec: FigureSpec,
        on_progress: ProgressCallback | None = None,
        requester: str = "",
    ) -> Image.Image:
        """Render off the event loop, reporting progress after each stage."""
        figure = await asyncio.to_thread(self.toy, photo, spec)
        if on_progress:
            await on_progress(Progress(0.6, "figure moulded"))
        boxed = await asyncio.to_thread(self.box, figure, spec)
        if on_progress:
            await on_progress(Progress(1.0, "boxed"))
        return boxed
