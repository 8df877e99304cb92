"""The store: one part per aggregate, over one shared database."""

from __future__ import annotations

from bot.privacy import Vault
from bot.store.challenges import ChallengeStore
from bot.store.chats import ChatStore
from bot.store.database import Database
from bot.store.drafts import DraftStore
from bot.store.inbox import InboxStore
from bot.store.jobs import JobStore
from bot.store.photos import PhotoStore
from bot.store.privacy import PrivacyStore
from bot.store.usage import UsageStore


class Store:
    """Durable state behind the core: photos, jobs and figures, usage and spend, chat settings, consent
    and retention, challenges, and what users sent (the inbox and drafts). Only the core holds one;
    adapters ask the engine.

    Sealed photos and figures live in the database itself (``LargeBinary``: a BLOB on SQLite, ``bytea`` on
    Postgres), not in a blob folder or bucket: there is one place to back up, a figure is written in the
    same transaction as its job's row (never a done job without its figure, nor a figure without its job),
    and forget-me and the retention purge stay one transaction each that leaves nothing behind. At a few
    megabytes each, they are well within what either engine keeps comfortably."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.photos = PhotoStore(db)
        self.jobs = JobStore(db)
        self.usage = UsageStore(db)
        self.chats = ChatStore(db)
        self.privacy = PrivacyStore(db)
        self.challenges = ChallengeStore(db)
        self.inbox = InboxStore(db)
        self.drafts = DraftStore(db)

    @classmethod
    async def open(cls, url: str, vault: Vault) -> Store:
        """Connect to ``url``, apply any pending migrations, and check the key opens this store."""
        return cls(await Database.open(url, vault))

    async def close(self) -> None:
        await self.db.close()
