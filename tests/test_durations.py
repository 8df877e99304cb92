"""Lengths of time in words, and the time left until the daily counts start again."""

from __future__ import annotations

import pytest

from bot.admission import day_and_reset
from bot.durations import duration_words

DAY = 86400.0
MIDNIGHT = 1_800_000_000.0 - 1_800_000_000.0 % DAY


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (3600, "1 hour"),
        (30 * DAY, "30 days"),
        (90 * 60, "1 hour 30 minutes"),
        (2 * 3600 + 5 * 60, "2 hours 5 minutes"),
        (DAY + 60, "1 day 1 minute"),
        (3 * DAY + 4 * 3600, "3 days 4 hours"),
        (45 * 60, "45 minutes"),
        (60, "1 minute"),
        (61, "2 minutes"),  # rounded up: a deadline is never said to be nearer than it is
        (20, "1 minute"),
        (0, "1 minute"),  # never "0 minutes"
        (-5, "1 minute"),  # a deadline just passed
    ],
)
def test_durations_read_in_days_hours_and_minutes(seconds: float, words: str) -> None:
    assert duration_words(seconds) == words


def test_the_counts_start_again_at_the_next_utc_midnight() -> None:
    assert day_and_reset(MIDNIGHT + 22 * 3600) == ("2027-01-15", "2 hours")
    assert day_and_reset(MIDNIGHT + 18 * 3600 + 56 * 60 + 30) == ("2027-01-15", "5 hours 4 minutes")
    assert day_and_reset(MIDNIGHT + DAY - 1) == ("2027-01-15", "1 minute")
    assert day_and_reset(MIDNIGHT) == ("2027-01-15", "1 day")
