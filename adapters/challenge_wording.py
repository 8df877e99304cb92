"""What the chats say about theme challenges, written once: each chat passes its ``Markup``.

Texts that take no markup are plain text, also for places without any (button alerts); a chat that shows
them in a marked-up message escapes them first."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.markup import Markup
from bot.challenge_types import POINTS, Challenge, Phase, Placing, Standing
from bot.durations import duration_words

NO_POINTS = "No one has points here yet: places in finished challenges earn them."
SHOWN_PLACES = 20  # result lines: the message stays short enough for every chat
SHOWN_WINNERS = 10  # winners named in the congratulations
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
# Plurals that are not the word and an "s", for ``each``.
PLURALS = {"entry": "entries"}


def each(count: int, what: str) -> str:
    """``1 vote``, ``2 votes``, ``3 entries``."""
    return f"{count} {what if count == 1 else PLURALS.get(what, what + 's')}"


def started_text(markup: Markup, started: Challenge, how_to_make: str) -> str:
    """The announcement of a new challenge; ``how_to_make`` says, in the chat's markup, how a figure is
    made there."""
    return (
        f"🏆 New challenge: {markup.bold(started.theme_name)}! {how_to_make} (the figure takes the theme "
        "by itself), then enter it with its Enter challenge button or /challenge enter. Entries close "
        f"{markup.deadline(started.deadline)}; then everyone votes for {duration_words(started.vote_for)}. "
        f"{each(started.entries_per_user, 'entry')} per member, {each(started.votes_per_voter, 'vote')} "
        "per voter."
    )


def challenge_status_text(markup: Markup, current: Challenge, entries: int, mine: int) -> str:
    """Where the running challenge stands, for someone who has ``mine`` of its ``entries``."""
    theme, deadline = markup.bold(current.theme_name), markup.deadline(current.deadline)
    if current.phase is Phase.SUBMISSIONS:
        return (
            f"🏆 {theme} challenge: entries close {deadline}. {each(entries, 'entry')} so far, {mine} of "
            f"them yours (up to {current.entries_per_user} each)."
        )
    return (
        f"🗳️ {theme} challenge: voting closes {deadline}. {each(entries, 'entry')}; vote with the buttons "
        f"under them ({each(current.votes_per_voter, 'vote')} each)."
    )


def entered_text(challenge: Challenge, number: int) -> str:
    return f"Entered: your figure is entry {number} in the {challenge.theme_name} challenge."


def withdrawn_text(number: int) -> str:
    return f"Withdrawn: entry {number} is out of the challenge."


def voting_text(markup: Markup, challenge: Challenge, missing: Sequence[int] = ()) -> str:
    """The announcement that voting opened, over the entries; ``missing``: entries without a picture."""
    text = (
        f"🗳️ Voting is open in the {markup.bold(challenge.theme_name)} challenge! The entries are shown "
        "without their makers' names. Press an entry's button to vote: "
        f"{each(challenge.votes_per_voter, 'vote')} each, not for your own. You can change your mind until "
        f"voting closes {markup.deadline(challenge.deadline)}."
    )
    if missing:
        text += f" No picture is left of entry {', '.join(map(str, missing))}."
    return text


def more_entries_text(markup: Markup, challenge: Challenge) -> str:
    """Over the entries that did not fit under the voting announcement."""
    return f"More entries of the {markup.bold(challenge.theme_name)} challenge:"


def moved_on_text(markup: Markup, moved: Challenge, admin_id: str) -> str:
    """An admin moved the challenge on: to voting, or to its close."""
    admin, theme = markup.mention(admin_id), markup.bold(moved.theme_name)
    if moved.phase is Phase.VOTING:
        closes = markup.deadline(moved.deadline)
        return f"⏩ {admin} opened the voting in the {theme} challenge; it closes {closes}."
    return f"⏩ {admin} closed the {theme} challenge."


def cancelled_text(markup: Markup, cancelled: Challenge, admin_id: str) -> str:
    """The answer to the admin who cancelled the challenge, for the chat to see."""
    return f"🚫 {markup.mention(admin_id)} cancelled the {markup.bold(cancelled.theme_name)} challenge."


def called_off_text(markup: Markup, cancelled: Challenge) -> str:
    """The announcement of a cancelled challenge."""
    theme = markup.bold(cancelled.theme_name)
    return f"🚫 The {theme} challenge is called off: no voting, no winner this time."


def results_text(markup: Markup, theme_name: str, results: Sequence[Placing]) -> str:
    """A closed challenge's places with their votes (ties share a place) and its winners congratulated.
    Results name makers only now that voting is over."""
    theme = markup.bold(theme_name)
    if not results:
        return f"🏁 The {theme} challenge closed without entries, so there is no winner this time."
    if not any(placing.votes for placing in results):
        return (
            f"🏁 The {theme} challenge closed with {each(len(results), 'entry')} but no votes, so there "
            "is no winner this time."
        )
    places = [placing.place for placing in results]
    lines = [f"🏁 The {theme} challenge is over! The results:"]
    for placing in results[:SHOWN_PLACES]:
        rank = MEDALS.get(placing.place, f"{placing.place}.")
        tie = " (tie)" if places.count(placing.place) > 1 else ""
        maker = markup.mention(placing.entry.user_id)
        lines.append(f"{rank} Entry {placing.entry.number} by {maker}: {each(placing.votes, 'vote')}{tie}")
    if len(results) > SHOWN_PLACES:
        lines.append(f"…and {each(len(results) - SHOWN_PLACES, 'entry')} more.")
    winners = [placing.entry.user_id for placing in results if placing.place == 1]
    named = [markup.mention(user_id) for user_id in winners[:SHOWN_WINNERS]]
    if len(winners) > SHOWN_WINNERS:
        named.append(f"…and {len(winners) - SHOWN_WINNERS} more")
    lines.append(f"🏆 Congratulations, {', '.join(named)}!")
    return "\n".join(lines)


def shelf_caption(markup: Markup, challenge: Challenge) -> str:
    return f"🏆 The {markup.bold(challenge.theme_name)} winners on the shelf"


def leaderboard_text(markup: Markup, standings: Sequence[Standing], chat_kind: str) -> str:
    """The points of a chat's challenges; ``chat_kind`` is what the chat is called: channel, group."""
    if not standings:
        return NO_POINTS
    legend = ", ".join(f"{points} for place {place}" for place, points in POINTS.items())
    lines = [f"🏆 Leaderboard of this {chat_kind}'s challenges (points: {legend}):"]
    for rank, standing in enumerate(standings, start=1):
        score = f"{each(standing.points, 'point')}, {each(standing.wins, 'win')}"
        lines.append(f"{rank}. {markup.mention(standing.user_id)}: {score}")
    return "\n".join(lines)
