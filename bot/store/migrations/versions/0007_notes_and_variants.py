"""jobs keep the generator's notes for the user; photos count their takes (re-roll variants)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("notes", sa.Text()))
    with op.batch_alter_table("photos") as batch:  # every figure made before variants was a variant 1
        batch.add_column(sa.Column("last_variant", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("photos") as batch:
        batch.drop_column("last_variant")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("notes")
