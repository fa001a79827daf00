"""Migrations: the Alembic scripts build exactly the schema the code declares, on both backends."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.conftest import BACKENDS, new_database
from tests.live import USAGEKIT
from usagekit.store import Store, migrate
from usagekit.store.engine import make_engine
from usagekit.store.schema import metadata


def test_migrated_schema_equals_the_declared_one(store: Store) -> None:
    assert migrate.current(store.engine) == migrate.head()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrate_command(tmp_path: object) -> None:
    db = f"{tmp_path}/fresh.db"
    due = subprocess.run(
        [USAGEKIT, "migrate", "--db", db, "--check"], capture_output=True, text=True
    )
    assert due.returncode == 1 and "due" in due.stderr + due.stdout
    done = subprocess.run([USAGEKIT, "migrate", "--db", db], capture_output=True, text=True)
    assert done.returncode == 0 and f"to {migrate.head()}" in done.stderr + done.stdout
    again = subprocess.run(
        [USAGEKIT, "migrate", "--db", db, "--check"], capture_output=True, text=True
    )
    assert again.returncode == 0 and "up to date" in again.stderr + again.stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_0003_backfills_failure_subjects(backend: str, tmp_path: Path) -> None:
    """Failures kept before 0003 get the subject their record names (AMIE: Username)."""
    kept = [
        ("events", {"id": "a", "subject": "alice", "time": "yesterday"}, "alice"),
        ("events", {"id": "b", "subject": 7}, None),  # not text: nobody's
        ("events", ["not", "an", "object"], None),
        ("amie", {"Username": "bob", "Resource": "r1"}, "bob"),
        ("amie-invalid", {"Username": "carol", "subject": "x"}, "carol"),
        ("events", {"subject": "s" * 257}, None),  # too long for the column
    ]
    with new_database(backend, tmp_path) as url:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine, "0002")
            with engine.begin() as conn:
                for n, (channel, record, _) in enumerate(kept):
                    conn.execute(
                        sa.text(
                            "INSERT INTO failures (tenant_id, received_ms, channel, error, record)"
                            " VALUES (1, :n, :channel, 'bad', :record)"
                        ),
                        {"n": n, "channel": channel, "record": json.dumps(record)},
                    )
            migrate.upgrade(engine)
            with engine.connect() as conn:
                got = conn.execute(sa.text("SELECT subject FROM failures ORDER BY id")).scalars()
                assert list(got) == [want for _, _, want in kept]
        finally:
            engine.dispose()
