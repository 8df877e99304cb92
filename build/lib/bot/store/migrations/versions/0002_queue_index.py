"""index for picking the next job per requester

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_index("ix_jobs_queue", "jobs", ["status", "generator", "platform", "user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_queue", "jobs")
