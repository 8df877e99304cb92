"""``figurebot stats``: jobs and estimated spend per day, per chat and per generator."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

KINDS = ("day", "chat", "gen")
CHAT_LABEL = 10  # characters of a chat's keyed hash shown; enough to tell chats apart


def chat_label(platform: str, scope_hash: str) -> str:
    """How a chat is shown: its platform and the start of its keyed hash (chats are never named)."""
    return f"{platform}:{scope_hash[:CHAT_LABEL]}"


def _table(title: str, totals: dict[str, list[float]]) -> list[str]:
    lines = [title, f"  {'':<24} {'jobs':>7} {'spend USD':>11}"]
    for key, (jobs, cost) in totals.items():
        lines.append(f"  {key:<24} {int(jobs):>7} {cost:>11.2f}")
    return lines


def spend_report(rows: Iterable[Any], days: int) -> str:
    """The report over ``rows`` of the spend table (newest day first)."""
    by: dict[str, dict[str, list[float]]] = {name: defaultdict(lambda: [0, 0.0]) for name in KINDS}
    for row in rows:
        keys = {"day": row.day, "chat": chat_label(row.platform, row.scope), "gen": row.generator}
        for name, key in keys.items():
            by[name][key][0] += row.jobs
            by[name][key][1] += row.cost_usd
    if not by["day"]:
        return f"No figures in the last {days} days."
    chats = dict(sorted(by["chat"].items(), key=lambda item: -item[1][1]))
    return "\n".join(
        [
            *_table(f"Per day (last {days} days, UTC):", by["day"]),
            "",
            *_table("Per chat or server (keyed hash; find one with --chat PLATFORM:ID):", chats),
            "",
            *_table("Per generator:", by["gen"]),
        ]
    )
