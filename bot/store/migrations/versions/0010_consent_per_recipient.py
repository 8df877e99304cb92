"""consent per recipient: accepting one service's privacy notice is not consent to another's

Consents given so far were to OpenAI, the only generator that sent photos away until now.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def _consents(name: str, *by: str) -> None:
    columns = [
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
    ]
    if "recipient" in by:
        columns.append(sa.Column("recipient", sa.String(length=32), nullable=False))
    op.create_table(
        name,
        *columns,
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(*by),
    )


def upgrade() -> None:
    _consents("consents_by_recipient", "platform", "user_id", "recipient")
    op.execute(
        "INSERT INTO consents_by_recipient (platform, user_id, recipient, version, accepted_at) "
        "SELECT platform, user_id, 'openai', version, accepted_at FROM consents"
    )
    op.drop_table("consents")
    op.rename_table("consents_by_recipient", "consents")


def downgrade() -> None:
    _consents("consents_per_user", "platform", "user_id")
    op.execute(
        "INSERT INTO consents_per_user (platform, user_id, version, accepted_at) "
        "SELECT platform, user_id, MAX(version), MAX(accepted_at) FROM consents GROUP BY platform, user_id"
    )
    op.drop_table("consents")
    op.rename_table("consents_per_user", "consents")
