"""index for when each requester was last served; the plain status index is covered by the queue index

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_index("ix_jobs_served", "jobs", ["platform", "user_id", "started_at", "status"])
    op.drop_index("ix_jobs_status", "jobs")


def downgrade() -> None:
    op.create_index("ix_jobs_status", "jobs", ["status", "created_at"])
    op.drop_index("ix_jobs_served", "jobs")
