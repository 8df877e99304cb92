"""Lengths of time in words, one way everywhere: retention periods, voting periods, time left until a
deadline or until the daily counts start again."""

from __future__ import annotations

import math

# Each unit in minutes, largest first.
UNITS = (("day", 24 * 60), ("hour", 60), ("minute", 1))


def duration_words(seconds: float) -> str:
    """``seconds`` in days, hours and minutes, rounded up to the minute and never less than one:
    ``3600`` → "1 hour", ``2592000`` → "30 days", ``7500`` → "2 hours 5 minutes", ``20`` → "1 minute"."""
    minutes = max(1, math.ceil(seconds / 60))
    parts = []
    for unit, size in UNITS:
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count} {unit}" if count == 1 else f"{count} {unit}s")
    return " ".join(parts)
