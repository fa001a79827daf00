"""failures.subject: whose record a failure is, so subject-bound keys see only theirs

Backfilled from the kept record: `subject` of native records, `Username` of AMIE
ones. Rows whose record names no subject stay null (tenant-wide keys only).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMIE_CHANNELS = ("amie", "amie-invalid", "amie-conflict")
PAGE = 1000


def _subject(channel: str, record_json: str) -> str | None:
    """The subject a kept record names (as the code at this revision attributes it)."""
    try:
        record = json.loads(record_json)
    except ValueError:
        return None
    field = "Username" if channel in AMIE_CHANNELS else "subject"
    found = record.get(field) if isinstance(record, dict) else None
    return found if isinstance(found, str) and 0 < len(found) <= 256 else None


def upgrade() -> None:
    op.add_column("failures", sa.Column("subject", sa.String(256), nullable=True))
    op.create_index("ix_failures_subject", "failures", ["tenant_id", "subject", "id"])
    conn = op.get_bind()
    table = sa.table(
        "failures",
        sa.column("id", sa.BigInteger()),
        sa.column("channel", sa.String()),
        sa.column("record", sa.Text()),
        sa.column("subject", sa.String()),
    )
    after = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, table.c.channel, table.c.record)
            .where(table.c.id > after)
            .order_by(table.c.id)
            .limit(PAGE)
        ).all()
        updates = [
            {"fid": fid, "subject": subject}
            for fid, channel, record in rows
            if (subject := _subject(channel, record)) is not None
        ]
        if updates:
            conn.execute(
                table.update()
                .where(table.c.id == sa.bindparam("fid"))
                .values(subject=sa.bindparam("subject")),
                updates,
            )
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_failures_subject", table_name="failures")
    op.drop_column("failures", "subject")
