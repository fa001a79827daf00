"""Schema migrations (Alembic), the same scripts for SQLite and PostgreSQL.

`Store.open` upgrades to the newest revision; `usagekit migrate` does it
explicitly and reports where a database stands.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "usagekit.store:migrations")
    return cfg


def current(engine: Engine) -> str | None:
    """The revision a database is at (None: empty, or made before migrations existed)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    found = ScriptDirectory.from_config(config()).get_current_head()
    assert found is not None
    return found


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`, in one transaction where the backend allows it."""
    cfg = config()
    # immediate: the writers' lock (SQLite BEGIN IMMEDIATE, a PostgreSQL advisory
    # lock), so processes starting together upgrade one after the other.
    with engine.execution_options(immediate=True).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
