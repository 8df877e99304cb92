"""Durable state: SQLAlchemy Core tables on aiosqlite (portable SQL, Postgres later), migrated by Alembic."""
