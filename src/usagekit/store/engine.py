"""Database engines: URL handling and per-backend connection settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url


def normalise_url(db: str) -> str:
    """Accept a bare file path, sqlite:///path or postgresql://...; return a SQLAlchemy URL."""
    if "://" not in db:
        return f"sqlite:///{db}"
    if db.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    return db


def make_engine(db: str, *, synchronous: str = "FULL") -> Engine:
    """An engine for `db`; SQLite files get WAL, a busy timeout and explicit BEGINs."""
    url = make_url(normalise_url(db))
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            # Each connection has its own page cache: few connections keep RSS bounded.
            pool_size=4,
            max_overflow=4,
        )
        _configure_sqlite(engine, synchronous)
        return engine
    if url.get_backend_name() == "postgresql":
        engine = create_engine(
            url,
            pool_size=8,
            max_overflow=8,
            pool_pre_ping=True,
            connect_args={"prepare_threshold": None},
        )
        _configure_postgresql(engine)
        return engine
    raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")


# Any constant shared by every usagekit process on a database: the writers' lock.
WRITE_LOCK = 0x75736B77  # "uskw"


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # One writer at a time across every server process on this database, as
        # SQLite's BEGIN IMMEDIATE: sequence numbers (max + 1) and rollup
        # read-modify-writes stay exact. Held until commit or rollback.
        if conn.get_execution_options().get("immediate", False):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-16384")  # 16 MiB per connection
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front, so two writers never deadlock on upgrade;
        # busy_timeout makes a second writer wait rather than fail.
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
