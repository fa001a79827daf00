"""Migrations: the Alembic scripts build exactly the schema the code declares, on both backends."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
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


_LIMIT_0006 = sa.text(
    "INSERT INTO limits (id, tenant_id, slug, meter_id, period, tz, limit_value, thresholds, "
    "scope, filters, created_ms, updated_ms) VALUES "
    "(:i, 1, :slug, 10, 'month', 'UTC', '100', '[\"50\"]', 'subject', '{}', 0, 0)"
)
_STATE_0006 = sa.text(
    "INSERT INTO limit_state (limit_id, subject, period_start, period_end, usage, crossed, "
    "updated_ms, cell) VALUES (:l, :s, :p, :p, :u, :c, 0, NULL)"
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_0007_moves_latest_kept_periods_into_sheets_and_back(backend: str, tmp_path: Path) -> None:
    """Each (limit, subject)'s latest kept period becomes its sheet entry; older ones stay
    in limit_state (the archive); a downgrade puts the entries back."""
    state = [  # (limit, subject, start, usage, crossed)
        (1, "alice", 100, "5", "[]"),
        (1, "alice", 200, "80", "[50000000000]"),
        (1, "bob", 100, "1", "[]"),
        (2, "", 300, "7", "[]"),
    ]
    with new_database(backend, tmp_path) as url:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine, "0006")
            with engine.begin() as conn:
                for limit_id in (1, 2):
                    conn.execute(_LIMIT_0006, {"i": limit_id, "slug": f"l{limit_id}"})
                for limit_id, subject, start, usage, crossed in state:
                    conn.execute(
                        _STATE_0006,
                        {"l": limit_id, "s": subject, "p": start, "u": usage, "c": crossed},
                    )
            migrate.upgrade(engine)
            with engine.connect() as conn:
                found = conn.execute(sa.text("SELECT subject, sheet FROM limit_sheets"))
                sheets = {s: json.loads(t) for s, t in found}
                archive = conn.execute(
                    sa.text("SELECT limit_id, subject, period_start FROM limit_state")
                ).all()
            assert sheets == {
                "alice": {"1": [0, [[200, 200, "80", [50000000000], None]]]},
                "bob": {"1": [0, [[100, 100, "1", [], None]]]},
                "": {"2": [0, [[300, 300, "7", [], None]]]},
            }
            assert [tuple(r) for r in archive] == [(1, "alice", 100)]
            cfg = migrate.config()
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, "0006")
            with engine.connect() as conn:
                back = conn.execute(
                    sa.text(
                        "SELECT limit_id, subject, period_start, usage, crossed FROM limit_state "
                        "ORDER BY limit_id, subject, period_start"
                    )
                ).all()
            assert [tuple(r) for r in back] == sorted(state)
        finally:
            engine.dispose()
