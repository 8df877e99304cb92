"""Wording every chat shares about figures and the people who ask for them: job status lines, captions,
themes, quota, privacy, forget-me, chat settings, and what is said when something went wrong."""

from __future__ import annotations

from bot.chats import ChatSettings
from bot.durations import duration_words
from bot.engine import JobEngine, Quota
from bot.jobs import EventKind, Job, JobEvent, Requester
from bot.privacy import privacy_notice
from bot.spec import FigureSpec
from bot.themes import catalog, find_theme

BROKEN = "Something went wrong on my side; please try again."
# The terminal's wording of BROKEN: a failed command there is retried by typing it again.
COMMAND_BROKEN = "Something went wrong with that command; please try again."
CAPTION_HELP = (
    "Write the caption as: name | theme | accessories | tagline, e.g. Alex | astronaut | helmet, cat; "
    'or with options: name=Alex theme=pirate accessories="parrot, map" style=window.'
)
# What a figure can be made from, for people who sent something else.
SEND_A_PHOTO = "Send a photo of a person, compressed or as a file (JPEG, PNG, WebP, HEIC…)."
# How the store's forget counts read, for one and for many.
_FORGOTTEN_KINDS = {
    "photos": ("photo", "photos"),
    "figures": ("figure", "figures"),
    "jobs": ("job", "jobs"),
    "consents": ("privacy consent", "privacy consents"),
    "challenge_entries": ("challenge entry", "challenge entries"),
    "challenge_votes": ("challenge vote", "challenge votes"),
    "challenge_results": ("challenge result", "challenge results"),
    "drafts": ("figure being set up", "figures being set up"),
}


def describe(spec: FigureSpec) -> str:
    """``Alex (Astronaut)``: whose figure and its theme."""
    return f"{spec.name} ({find_theme(spec.theme).name})"


def job_status_line(event: JobEvent) -> str:
    """One line on where a job stands, for the message that follows it."""
    who = describe(event.job.spec)
    match event.kind:
        case EventKind.QUEUED:
            return f"⏳ {who}: number {event.position or 1} in the queue."
        case EventKind.STARTED:
            return f"🎨 Painting {who}…"
        case EventKind.PROGRESS:
            percent = round((event.fraction or 0) * 100)
            stage = f", {event.stage}" if event.stage else ""
            return f"🎨 Painting {who}… {percent}%{stage}"
        case EventKind.DONE:
            return f"✅ {who} is ready."
        case EventKind.FAILED:
            return f"⚠️ {who}: {event.reason or BROKEN}"
        case EventKind.CANCELLED:
            return f"Cancelled: {who}."
    raise ValueError(f"unknown event kind {event.kind!r}")


def figure_caption(job: Job) -> str:
    """The caption under a finished figure; it says so when another generator stood in, and gives the
    generator's notes, one a line."""
    caption = describe(job.spec)
    if job.painter != job.generator:
        caption += f" · painted by {job.painter}, standing in for {job.generator}"
    return "\n".join((caption, *job.notes))


def themes_text() -> str:
    names = ", ".join(theme.name for theme in catalog().values())
    return f"Themes: {names}. Any other words work as a theme too."


def quota_text(quota: Quota) -> str:
    """Today's figures and limits, one fact a line."""
    lines = [
        f"Today, with the {quota.generator} generator:",
        f"• you: {quota.user_used} of {quota.user_limit} figures",
        f"• this chat: {quota.chat_used} of {quota.chat_limit} figures",
    ]
    if quota.active_limit:
        lines.append(f"• in the works now: {quota.active} of {quota.active_limit}")
    if quota.budget_left_usd is not None:
        left = f"${quota.budget_left_usd:.2f}" if quota.budget_left_usd > 0 else "used up"
        lines.append(f"• budget for figures today: {left}")
    lines.append(f"The counts start again in {quota.resets_in} (midnight UTC).")
    return "\n".join(lines)


async def privacy_text(engine: JobEngine, requester: Requester) -> tuple[str, bool]:
    """The privacy notice for the generator that paints in ``requester``'s chat, and whether accepting
    it is needed before a first figure."""
    name, generator = await engine.generator_in(requester)
    notice = privacy_notice(name, generator.sends_photo_off_machine, engine.settings)
    return notice, generator.sends_photo_off_machine


def forget_summary(counts: dict[str, int]) -> str:
    """``Forgotten. Deleted: 1 photo, 2 figures, …`` from the engine's counts per kind (zeros left out)."""
    parts = []
    for kind, count in counts.items():
        one, many = _FORGOTTEN_KINDS.get(kind, (kind.replace("_", " "),) * 2)
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    return f"Forgotten. Deleted: {', '.join(parts) or 'nothing (nothing was stored about you)'}."


def unusable_upload(kind: str) -> str:
    """The answer to a sticker, video, voice message… sent where a photo was expected."""
    return f"I can't make a figure from a {kind}. {SEND_A_PHOTO}"


def chat_settings_lines(chat: ChatSettings, engine: JobEngine) -> list[str]:
    """What a chat's admins set that every platform has, one fact a line."""
    settings = engine.settings
    painters = ", ".join(engine.own_machine_painters()) or "none"
    quota = "the bot's default" if chat.daily_quota_per_user is None else str(chat.daily_quota_per_user)
    kept = min(chat.photo_retention, settings.photo_retention) if chat.photo_retention is not None else None
    kept = settings.photo_retention if kept is None else kept
    return [
        f"• photos stay on this bot's own machines (painted by {painters} only): "
        f"{'yes' if chat.local_only else 'no'}",
        f"• figures per member per day: {quota}",
        f"• photos kept after their last figure: {duration_words(kept) if kept else 'no time'}",
    ]
