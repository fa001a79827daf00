"""limit_sheets (each subject's kept usage of a meter's limits in one row) and
limits.epoch; limit_state keeps only older calendar periods (the archive)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("limits") as batch:
        batch.add_column(sa.Column("epoch", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "limit_sheets",
        sa.Column("meter_id", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("meter_id", "subject"),
    )
    _move_latest_into_sheets(op.get_bind())


def _move_latest_into_sheets(conn: sa.Connection) -> None:
    """Each (limit, subject)'s latest kept period becomes its sheet entry; older calendar
    periods stay in limit_state, now the archive."""
    rows = conn.exec_driver_sql(
        "SELECT s.limit_id, l.meter_id, s.subject, s.period_start, s.period_end, s.usage, "
        "s.crossed, s.cell, s.updated_ms FROM limit_state s JOIN limits l ON l.id = s.limit_id "
        "ORDER BY s.limit_id, s.subject, s.period_start"
    ).all()
    latest: dict[tuple[int, str], Any] = {}
    for row in rows:
        latest[(row[0], row[2])] = row  # ordered: the last one is the latest
    sheets: dict[tuple[int, str], dict[str, Any]] = {}
    for (limit_id, subject), row in latest.items():
        entry = [row[3], row[4], row[5], orjson.loads(row[6]),
                 None if row[7] is None else orjson.loads(row[7])]  # fmt: skip
        sheets.setdefault((row[1], subject), {})[str(limit_id)] = [0, [entry]]
    for (meter_id, subject), sheet in sheets.items():
        conn.execute(
            sa.text(
                "INSERT INTO limit_sheets (meter_id, subject, sheet, updated_ms) "
                "VALUES (:m, :s, :sheet, 0)"
            ),
            {"m": meter_id, "s": subject, "sheet": orjson.dumps(sheet).decode()},
        )
    for limit_id, subject in latest:
        start = latest[(limit_id, subject)][3]
        conn.execute(
            sa.text(
                "DELETE FROM limit_state WHERE limit_id = :l AND subject = :s AND period_start = :p"
            ),
            {"l": limit_id, "s": subject, "p": start},
        )


def downgrade() -> None:
    _move_sheets_back(op.get_bind())
    op.drop_table("limit_sheets")
    with op.batch_alter_table("limits") as batch:
        batch.drop_column("epoch")


def _move_sheets_back(conn: sa.Connection) -> None:
    """Sheet entries of the limits' current epochs return to limit_state."""
    epochs: dict[int, int] = dict(conn.exec_driver_sql("SELECT id, epoch FROM limits").all())
    for subject, text in conn.exec_driver_sql("SELECT subject, sheet FROM limit_sheets").all():
        for limit_id, (epoch, entries) in orjson.loads(text).items():
            if epochs.get(int(limit_id)) != epoch:
                continue
            for start, end, usage, crossed, cell in entries:
                conn.execute(
                    sa.text(
                        "INSERT INTO limit_state (limit_id, subject, period_start, period_end, "
                        "usage, crossed, updated_ms, cell) VALUES (:l, :s, :p, :e, :u, :c, 0, :x)"
                    ),
                    {"l": int(limit_id), "s": subject, "p": start, "e": end, "u": usage,
                     "c": orjson.dumps(crossed).decode(),
                     "x": None if cell is None else orjson.dumps(cell).decode()},
                )  # fmt: skip
