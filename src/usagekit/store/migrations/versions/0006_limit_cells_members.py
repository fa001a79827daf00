"""limit_state.cell (the aggregate so far), limit_members (unique values per key) and
limits.backlog_lo/_hi (the event times stored before a limit began counting)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("limits") as batch:
        batch.add_column(sa.Column("backlog_lo", sa.BigInteger()))
        batch.add_column(sa.Column("backlog_hi", sa.BigInteger()))
    with op.batch_alter_table("limit_state") as batch:
        batch.add_column(sa.Column("cell", sa.Text()))
    op.create_table(
        "limit_members",
        sa.Column("limit_id", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("period_start", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("limit_id", "subject", "period_start", "value"),
    )


def downgrade() -> None:
    op.drop_table("limit_members")
    with op.batch_alter_table("limits") as batch:
        batch.drop_column("backlog_lo")
        batch.drop_column("backlog_hi")
    with op.batch_alter_table("limit_state") as batch:
        batch.drop_column("cell")
