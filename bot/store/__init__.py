"""Durable state: SQLAlchemy Core tables on SQLite (the default, through aiosqlite) or Postgres (through
psycopg 3), the same statements on both, migrated by Alembic."""
