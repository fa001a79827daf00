"""rollups.sum_carry: sums stay exact past 64 bits

A sum was sum_units * 10**9 + sum_nanos in two BIGINTs: past 2**63 units SQLite
turned it into a float (later additions vanished) and PostgreSQL refused the
commit. Now it is (sum_carry * 10**18 + sum_units) * 10**9 + sum_nanos with each
part kept small (store.rollups); existing rows are brought into that form.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNITS = "(sum_units + sum_nanos / 1000000000)"


def upgrade() -> None:
    op.add_column(
        "rollups", sa.Column("sum_carry", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.execute(
        f"UPDATE rollups SET sum_carry = {_UNITS} / 1000000000000000000, "
        f"sum_units = {_UNITS} % 1000000000000000000, sum_nanos = sum_nanos % 1000000000"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE rollups SET sum_units = sum_units + sum_carry * 1000000000000000000 "
        "WHERE sum_carry BETWEEN -9 AND 9"
    )
    with op.batch_alter_table("rollups") as batch:
        batch.drop_column("sum_carry")
