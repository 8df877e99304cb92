"""The offline generator: the person as a plastic toy in the theme's costume, boxed. No key, no network."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, replace

from PIL import Image

from bot.boxart.compose import Anchor, BoxText, box_text, compose_box, figure_limit
from bot.figure.exposure import corrected
from bot.figure.head import portrait_face
from bot.figure.outfit import outfit_for
from bot.figure.pose import pose_for
from bot.figure.segmentation.person import find_person
from bot.figure.segmentation.runtime import models_available
from bot.figure.subject import subject_mask
from bot.figure.toy import Held, build_person, build_subject
from bot.generators.base import GeneratorError, Misconfigured, Painted, Progress, ProgressCallback
from bot.intake import Photo
from bot.spec import FigureSpec
from bot.themes import find_theme

log = logging.getLogger("figurebot.local")

GROUP_NOTE = "I used the person in the middle; crop the photo to choose someone else."
NO_PERSON_NOTE = (
    "I found no person in this photo, so I made a collectible of what is in it. For a figure of someone, "
    "send a photo where their face is clear and not too small."
)


@dataclass(frozen=True)
class Figure:
    """The moulded toy before boxing, where it sits in the window, the accessory in its hand, and what
    the user should be told about it."""

    image: Image.Image
    anchor: Anchor
    held: str | None = None
    notes: tuple[str, ...] = ()


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

    def _text(self, spec: FigureSpec) -> BoxText:
        return box_text(spec.name, spec.tagline, spec.accessories, find_theme(spec.theme))

    def toy(self, photo: Photo, spec: FigureSpec) -> Figure:
        """The posed plastic figure in costume, sized for the window of the spec's box style."""
        theme = find_theme(spec.theme)
        dressing = outfit_for(theme, spec.costume)
        notes = [f"I could not draw: {', '.join(dressing.undrawn)}."] if dressing.undrawn else []
        items = self._text(spec).accessories
        item = items[(spec.variant - 1) % len(items)]
        held = Held(item.label, item.icon or None, theme.palette.accent)
        pose = pose_for(spec.variant)
        limit = figure_limit(spec.style, self.size)
        image = corrected(photo.image)
        cutout = find_person(image)
        if cutout.person_found and cutout.face is not None:
            if cutout.faces > 1:
                notes.append(GROUP_NOTE)
            figure = build_person(image, cutout.mask, cutout.face, dressing.outfit, pose, held, limit)
            return Figure(figure, "floor", item.label, tuple(notes))
        if not models_available():  # no face detector on this platform: take the photo as a portrait
            whole = Image.new("L", image.size, 255)
            figure = build_person(image, whole, portrait_face(image.size), dressing.outfit, pose, held, limit)
            return Figure(figure, "floor", item.label, tuple(notes))
        mask = subject_mask(image)  # None: nothing stands out, so the photo is framed whole
        figure = build_subject(image, cutout.mask if mask is None else mask, dressing.outfit, pose, limit)
        return Figure(figure, "floor", None, (*notes, NO_PERSON_NOTE))

    def box(self, figure: Figure, spec: FigureSpec) -> Image.Image:
        """``figure`` packed in the box of the spec's theme and style; the accessory in hand leaves its
        compartment."""
        text = self._text(spec)
        if figure.held is not None and len(text.accessories) > 1:
            rest = tuple(item for item in text.accessories if item.label != figure.held)
            text = replace(text, accessories=rest)
        return compose_box(figure.image, find_theme(spec.theme), text, spec.style, self.size, figure.anchor)

    def paint(self, photo: Photo, spec: FigureSpec) -> Painted:
        """The whole figure and its notes in one synchronous call (the command line and benchmarks)."""
        figure = self.toy(photo, spec)
        return Painted(self.box(figure, spec), notes=figure.notes)

    def render(self, photo: Photo, spec: FigureSpec) -> Image.Image:
        """The boxed figure alone."""
        return self.paint(photo, spec).image

    async def unless_unusable(
        self,
        painting: Awaitable[Painted],
        painter: str,
        job: tuple[Photo, FigureSpec, ProgressCallback | None],
        fallback: bool,
        unusable: tuple[type[GeneratorError], ...] = (Misconfigured,),
    ) -> Painted:
        """What ``painting`` (another generator's work on ``job``) paints; when ``fallback`` is on
        (``FALLBACK_TO_LOCAL``) and that generator cannot be used (``unusable``: the operator's problems),
        this one paints the figure instead, marked as standing in."""
        try:
            return await painting
        except unusable as error:
            if not fallback:
                raise
            log.error("%s cannot paint, painting locally instead: %s", painter, error.message)
            return replace(await self.generate(*job), stand_in=self.name)

    async def generate(
        self,
        photo: Photo,
        spec: FigureSpec,
        on_progress: ProgressCallback | None = None,
        requester: str = "",
    ) -> Painted:
        """Render off the event loop, reporting progress after each stage."""
        figure = await asyncio.to_thread(self.toy, photo, spec)
        if on_progress:
            await on_progress(Progress(0.6, "figure moulded"))
        boxed = await asyncio.to_thread(self.box, figure, spec)
        if on_progress:
            await on_progress(Progress(1.0, "boxed"))
        return Painted(boxed, notes=figure.notes)
