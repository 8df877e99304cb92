"""jobs get a platform note, estimated cost and stand-in generator; per-chat settings; daily spend

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("ref", sa.Text()))
        batch.add_column(sa.Column("cost_usd", sa.Float()))
        batch.add_column(sa.Column("painted_by", sa.String(32)))
    op.create_table(
        "chat_settings",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("local_only", sa.Boolean(), nullable=False),
        sa.Column("daily_quota_per_user", sa.Integer()),
        sa.Column("photo_retention", sa.Float()),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("admin_role", sa.String(64)),
        sa.PrimaryKeyConstraint("platform", "scope"),
    )
    op.create_table(
        "spend",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("generator", sa.String(32), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", "platform", "scope", "generator"),
    )


def downgrade() -> None:
    op.drop_table("spend")
    op.drop_table("chat_settings")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("painted_by")
        batch.drop_column("cost_usd")
        batch.drop_column("ref")
