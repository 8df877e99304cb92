"""Daily usage (quotas) and spend (budgets and stats), counted under pseudonyms of users and chats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.store.database import Database
from bot.store.tables import spend, usage


@dataclass(frozen=True)
class DaySpend:
    """Jobs and estimated cost of one chat (a pseudonym) with one generator on one UTC day."""

    day: str
    platform: str
    scope: str
    generator: str
    jobs: int
    cost_usd: float


class UsageStore:
    """Figures per day for quotas, and jobs and cost per day for budgets and ``figurebot stats``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def count(self, day: str, platform: str, subject: str, generator: str) -> int:
        """Figures counted on ``day`` for ``subject`` (a pseudonym of a user or a chat)."""
        key = (usage.c.day == day, usage.c.platform == platform, usage.c.subject == subject)
        rows = await self._db.rows(select(usage.c.count).where(*key, usage.c.generator == generator))
        return rows[0].count if rows else 0

    async def count_job(
        self, day: str, platform: str, subjects: Iterable[str], generator: str, chat: str
    ) -> None:
        """Count a new job in one step: a figure for the quota of each subject (pseudonyms of the user and
        the chat), and a job in the stats of ``chat`` (the chat's pseudonym)."""
        key = {"day": day, "platform": platform, "generator": generator}
        async with self._db.transaction() as connection:
            await connection.execute(
                self._db.upsert(spend, {**key, "scope": chat, "jobs": 1, "cost_usd": 0.0}, add=True)
            )
            for subject in subjects:
                await connection.execute(
                    self._db.upsert(usage, {**key, "subject": subject, "count": 1}, add=True)
                )

    async def add_spend(self, day: str, platform: str, scope: str, generator: str, cost_usd: float) -> None:
        """Add estimated cost to a chat's day (``scope`` is a pseudonym of the chat)."""
        row = {"day": day, "platform": platform, "scope": scope, "generator": generator}
        await self._db.execute(self._db.upsert(spend, {**row, "jobs": 0, "cost_usd": cost_usd}, add=True))

    async def spent(self, day: str, platform: str | None = None, scope: str | None = None) -> float:
        """Estimated USD spent on ``day``: everywhere, or in one chat."""
        query = select(func.coalesce(func.sum(spend.c.cost_usd), 0.0)).where(spend.c.day == day)
        if platform is not None and scope is not None:
            query = query.where(spend.c.platform == platform, spend.c.scope == scope)
        return float((await self._db.rows(query))[0][0])

    async def since(self, day: str) -> list[DaySpend]:
        """Every day's spend from ``day`` on, newest day first."""
        query = select(spend).where(spend.c.day >= day)
        rows = await self._db.rows(query.order_by(spend.c.day.desc(), spend.c.platform, spend.c.scope))
        return [DaySpend(**row._asdict()) for row in rows]
