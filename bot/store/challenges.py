"""The queries behind theme challenges, over the same database as the jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select, update

from bot.challenge_types import OPEN_PHASES, Challenge, Entry, Placing, Standing
from bot.store.database import Database, new_id
from bot.store.tables import challenge_entries, challenge_results, challenge_votes, challenges

# Entry columns without the sealed image, for listing.
_ENTRY_COLUMNS = [column for column in challenge_entries.c if column.name != "image"]


class ChallengeStore:
    """Challenges, entries, votes and results. Entry images are sealed by the database's vault."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _challenges(self, query: Any) -> list[Challenge]:
        return [Challenge.from_row(row) for row in await self._db.rows(query)]

    # Challenges

    async def add(self, values: dict[str, Any]) -> str:
        challenge_id = new_id()
        await self._db.execute(insert(challenges).values(id=challenge_id, **values))
        return challenge_id

    async def get(self, challenge_id: str) -> Challenge | None:
        found = await self._challenges(select(challenges).where(challenges.c.id == challenge_id))
        return found[0] if found else None

    async def open_in(self, platform: str, chat_id: str) -> Challenge | None:
        """The chat's challenge that takes entries or votes, if any."""
        where = and_(
            challenges.c.platform == platform,
            challenges.c.chat_id == chat_id,
            challenges.c.phase.in_(OPEN_PHASES),
        )
        found = await self._challenges(select(challenges).where(where))
        return found[0] if found else None

    async def change(self, challenge_id: str, from_phases: tuple[str, ...], **values: Any) -> bool:
        """Change a challenge only if it is still in one of ``from_phases``; whether it changed."""
        where = and_(challenges.c.id == challenge_id, challenges.c.phase.in_(from_phases))
        result = await self._db.execute(update(challenges).where(where).values(**values))
        return result.rowcount == 1

    async def due(self, now: float) -> list[Challenge]:
        """Open challenges whose current deadline has passed."""
        submissions_over = and_(challenges.c.phase == "submissions", challenges.c.submit_until <= now)
        voting_over = and_(challenges.c.phase == "voting", challenges.c.vote_until <= now)
        query = select(challenges).where(submissions_over | voting_over).order_by(challenges.c.created_at)
        return await self._challenges(query)

    async def unannounced(self) -> list[Challenge]:
        """Challenges whose latest phase change has not reached the chat yet."""
        query = select(challenges).where(
            (challenges.c.announced.is_(None)) | (challenges.c.announced != challenges.c.phase)
        )
        return await self._challenges(query.order_by(challenges.c.created_at))

    async def move_chat(self, platform: str, old_chat_id: str, new_chat_id: str) -> int:
        """Give a chat's challenges and results its new id; how many challenges moved."""
        async with self._db.transaction() as connection:
            moved = await connection.execute(
                update(challenges)
                .where(challenges.c.platform == platform, challenges.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id)
            )
            await connection.execute(
                update(challenge_results)
                .where(challenge_results.c.platform == platform, challenge_results.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id)
            )
        return moved.rowcount

    # Entries

    async def add_entry(
        self, challenge_id: str, platform: str, user_id: str, job_id: str, image: bytes, fmt: str, now: float
    ) -> int:
        """Store a copy of the figure as an entry; its number."""
        async with self._db.transaction() as connection:
            last = select(func.coalesce(func.max(challenge_entries.c.number), 0)).where(
                challenge_entries.c.challenge_id == challenge_id
            )
            number = (await connection.execute(last)).scalar_one() + 1
            values = {
                "id": new_id(),
                "challenge_id": challenge_id,
                "platform": platform,
                "user_id": user_id,
                "job_id": job_id,
                "number": number,
                "image": self._db.vault.seal(image),
                "format": fmt,
                "created_at": now,
            }
            await connection.execute(insert(challenge_entries).values(**values))
        return number

    async def entries(self, challenge_id: str) -> list[Entry]:
        """The challenge's entries by number, without their images."""
        query = select(*_ENTRY_COLUMNS).where(challenge_entries.c.challenge_id == challenge_id)
        return [
            Entry.from_row(row) for row in await self._db.rows(query.order_by(challenge_entries.c.number))
        ]

    async def image(self, entry_id: str) -> bytes | None:
        query = select(challenge_entries.c.image).where(challenge_entries.c.id == entry_id)
        rows = await self._db.rows(query)
        return self._db.vault.open(rows[0].image) if rows else None

    async def delete_entry(self, entry_id: str) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(delete(challenge_votes).where(challenge_votes.c.entry_id == entry_id))
            await connection.execute(delete(challenge_entries).where(challenge_entries.c.id == entry_id))

    async def renumber(self, challenge_id: str) -> None:
        """Number the entries 1, 2, 3… in the order they came (after withdrawals left gaps)."""
        async with self._db.transaction() as connection:
            query = select(challenge_entries.c.id).where(challenge_entries.c.challenge_id == challenge_id)
            ordered = (await connection.execute(query.order_by(challenge_entries.c.created_at))).all()
            for number, row in enumerate(ordered, start=1):
                renumbered = update(challenge_entries).where(challenge_entries.c.id == row.id)
                await connection.execute(renumbered.values(number=number))

    # Votes

    async def votes_of(self, challenge_id: str, platform: str, user_id: str) -> list[str]:
        """The entry ids one voter voted for, oldest vote first."""
        where = and_(
            challenge_votes.c.challenge_id == challenge_id,
            challenge_votes.c.platform == platform,
            challenge_votes.c.user_id == user_id,
        )
        query = select(challenge_votes.c.entry_id).where(where).order_by(challenge_votes.c.created_at)
        return [row.entry_id for row in await self._db.rows(query)]

    async def replace_vote(
        self, challenge_id: str, platform: str, user_id: str, entry_id: str, dropped: str | None, now: float
    ) -> None:
        """Add a vote for ``entry_id``, taking back the vote for ``dropped`` in the same step."""
        async with self._db.transaction() as connection:
            if dropped is not None:
                where = and_(
                    challenge_votes.c.entry_id == dropped,
                    challenge_votes.c.platform == platform,
                    challenge_votes.c.user_id == user_id,
                )
                await connection.execute(delete(challenge_votes).where(where))
            vote = {
                "challenge_id": challenge_id,
                "entry_id": entry_id,
                "platform": platform,
                "user_id": user_id,
            }
            await connection.execute(insert(challenge_votes).values(**vote, created_at=now))

    async def tallies(self, challenge_id: str) -> dict[str, int]:
        """Votes per entry id (entries without votes are absent)."""
        query = (
            select(challenge_votes.c.entry_id, func.count().label("votes"))
            .where(challenge_votes.c.challenge_id == challenge_id)
            .group_by(challenge_votes.c.entry_id)
        )
        return {row.entry_id: row.votes for row in await self._db.rows(query)}

    # Results

    async def save_results(self, challenge: Challenge, results: list[tuple[Placing, int]]) -> None:
        """Keep each placing of a closed challenge with the points it earned, for the chat's leaderboard."""
        rows = [
            {
                "challenge_id": challenge.id,
                "entry_id": placing.entry.id,
                "platform": challenge.platform,
                "user_id": placing.entry.user_id,
                "chat_id": challenge.chat_id,
                "place": placing.place,
                "votes": placing.votes,
                "points": points,
            }
            for placing, points in results
        ]
        if rows:
            await self._db.execute(insert(challenge_results), rows)

    async def leaderboard(self, platform: str, chat_id: str, limit: int = 10) -> list[Standing]:
        """Points and wins per user across the chat's closed challenges, best first."""
        results = challenge_results.c
        query = (
            select(
                results.user_id,
                func.sum(results.points).label("points"),
                func.sum(case((results.place == 1, 1), else_=0)).label("wins"),
            )
            .where(results.platform == platform, results.chat_id == chat_id)
            .group_by(results.user_id)
            .having(func.sum(results.points) > 0)
            .order_by(func.sum(results.points).desc(), results.user_id)
            .limit(limit)
        )
        return [Standing(row.user_id, int(row.points), int(row.wins)) for row in await self._db.rows(query)]

    async def purge(self, before: float) -> int:
        """Delete entries (with their figure copies) and votes of challenges that ended before ``before``."""
        ended = select(challenges.c.id).where(
            challenges.c.phase.not_in(OPEN_PHASES), challenges.c.closed_at <= before
        )
        async with self._db.transaction() as connection:
            await connection.execute(delete(challenge_votes).where(challenge_votes.c.challenge_id.in_(ended)))
            gone = await connection.execute(
                delete(challenge_entries).where(challenge_entries.c.challenge_id.in_(ended))
            )
        return gone.rowcount
