"""Photos: sealed on the way in, kept while a job needs them, then until their retention ends."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, delete, insert, select, update

from bot.jobs import ACTIVE
from bot.store.database import Database, new_id
from bot.store.tables import jobs, photos

# A photo no waiting or running job needs any more (parameter ``photo_id``).
_UNUSED = and_(
    photos.c.id == bindparam("photo_id"),
    ~select(jobs.c.id)
    .where(jobs.c.photo_id == bindparam("photo_id"), jobs.c.status.in_(list(ACTIVE)))
    .exists(),
)
# Start an unused photo's retention clock (parameters ``photo_id``, ``expires_at``).
RELEASE = update(photos).where(_UNUSED).values(expires_at=bindparam("expires_at"))
_DELETE_UNUSED = delete(photos).where(_UNUSED)
_NEXT_VARIANT = (
    update(photos)
    .where(photos.c.id == bindparam("photo_id"))
    .values(last_variant=photos.c.last_variant + 1)
    .returning(photos.c.last_variant)
)


class PhotoStore:
    """The users' photos, sealed by the database's vault."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, platform: str, user_id: str, data: bytes, now: float) -> str:
        photo_id = new_id()
        row = {"id": photo_id, "platform": platform, "user_id": user_id, "created_at": now}
        await self._db.execute(insert(photos).values(**row, data=self._db.vault.seal(data)))
        return photo_id

    async def exists(self, photo_id: str) -> bool:
        return bool(await self._db.rows(select(photos.c.id).where(photos.c.id == photo_id)))

    async def keep(self, photo_id: str) -> None:
        """Keep the photo while a job needs it (its retention clock stops)."""
        await self._db.execute(update(photos).where(photos.c.id == photo_id).values(expires_at=None))

    async def next_variant(self, photo_id: str) -> int | None:
        """Count one more take of the photo (a re-roll) and return its number, in one step, so no two
        takes share one; ``None`` when the photo is gone."""
        async with self._db.transaction() as connection:
            return (await connection.execute(_NEXT_VARIANT, {"photo_id": photo_id})).scalar()

    async def release(self, photo_id: str, expires_at: float | None) -> None:
        """Start the photo's retention clock (``expires_at``), unless a waiting job still needs it."""
        await self._db.execute(RELEASE, {"photo_id": photo_id, "expires_at": expires_at})

    async def delete_unused(self, photo_id: str) -> None:
        """Delete the photo unless a waiting or running job still needs it."""
        await self._db.execute(_DELETE_UNUSED, {"photo_id": photo_id})
