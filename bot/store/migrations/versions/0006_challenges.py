"""theme challenges: challenges, entries, votes and results

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def _requester() -> list[sa.Column]:
    return [
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("guild_id", sa.String(64)),
        sa.Column("theme", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("submit_until", sa.Float(), nullable=False),
        sa.Column("vote_for", sa.Float(), nullable=False),
        sa.Column("vote_until", sa.Float()),
        sa.Column("entries_per_user", sa.Integer(), nullable=False),
        sa.Column("votes_per_voter", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("closed_at", sa.Float()),
        sa.Column("announced", sa.String(16)),
    )
    op.create_index("ix_challenges_chat", "challenges", ["platform", "chat_id", "phase"])
    op.create_table(
        "challenge_entries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("challenge_id", sa.String(32), nullable=False),
        *_requester(),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_entries_challenge", "challenge_entries", ["challenge_id"])
    op.create_index("ix_entries_owner", "challenge_entries", ["platform", "user_id"])
    op.create_table(
        "challenge_votes",
        sa.Column("challenge_id", sa.String(32), nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=False),
        *_requester(),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "platform", "user_id"),
    )
    op.create_index("ix_votes_challenge", "challenge_votes", ["challenge_id", "platform", "user_id"])
    op.create_table(
        "challenge_results",
        sa.Column("challenge_id", sa.String(32), nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=False),
        *_requester(),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("place", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("challenge_id", "entry_id"),
    )
    op.create_index("ix_results_chat", "challenge_results", ["platform", "chat_id"])


def downgrade() -> None:
    for table in ("challenge_results", "challenge_votes", "challenge_entries", "challenges"):
        op.drop_table(table)
