"""Migrations: the Alembic scripts build exactly the schema the code declares, on both backends."""

from __future__ import annotations

import subprocess

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.live import USAGEKIT
from usagekit.store import Store, migrate
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
