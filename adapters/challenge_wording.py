"""What the chats say about theme challenges, written once for every chat."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.challenges import Challenge, Placing

# Plurals that are not the word and an "s", for ``each``.
PLURALS = {"entry": "entries"}


def each(count: int, what: str) -> str:
    """``1 vote``, ``2 votes``, ``3 entries``."""
    return f"{count} {what if count == 1 else PLURALS.get(what, what + 's')}"


def entered_text(challenge: Challenge, number: int) -> str:
    return f"Entered: your figure is entry {number} in the {challenge.theme_name} challenge."


SHOWN_PLACES = 20  # result lines: the message stays short enough for every chat
SHOWN_WINNERS = 10  # winners named in the congratulations
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


def results_text(theme: str, results: Sequence[Placing], name: Callable[[str], str]) -> str:
    """A closed challenge's places with their votes (ties share a place) and its winners congratulated.

    ``theme`` is the theme as the chat should show it; ``name`` turns a user id into how the chat names
    (or mentions) them. Results name makers only now that voting is over."""
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
        maker = name(placing.entry.user_id)
        lines.append(f"{rank} Entry {placing.entry.number} by {maker}: {each(placing.votes, 'vote')}{tie}")
    if len(results) > SHOWN_PLACES:
        lines.append(f"…and {each(len(results) - SHOWN_PLACES, 'entry')} more.")
    winners = [placing.entry.user_id for placing in results if placing.place == 1]
    named = [name(user_id) for user_id in winners[:SHOWN_WINNERS]]
    if len(winners) > SHOWN_WINNERS:
        named.append(f"…and {len(winners) - SHOWN_WINNERS} more")
    lines.append(f"🏆 Congratulations, {', '.join(named)}!")
    return "\n".join(lines)
