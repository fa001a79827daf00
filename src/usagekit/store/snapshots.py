"""Backups of a live database and restoring them (`usagekit backup`, `usagekit restore`).

SQLite: SQLite's online backup API copies the database in one step under one read
transaction, so the snapshot is consistent while the server keeps writing (WAL
readers never block the writer). PostgreSQL: `pg_dump`, which reads one snapshot.
The server secret is not put in a backup: see docs/operations.md.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url

from usagekit.store import migrate
from usagekit.store.copy import TargetNotEmpty, copy_all
from usagekit.store.engine import make_engine, normalise_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def _url(db: str) -> URL:
    return make_url(normalise_url(db))


def sqlite_file(db: str) -> Path | None:
    """The file of a SQLite database, None for PostgreSQL."""
    url = _url(db)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError(f"{db}: an in-memory database cannot be backed up")
    return Path(url.database)


def backup(db: str, target: Path, *, force: bool = False) -> str:
    """Write a consistent snapshot of `db` to `target`; a line saying what was written."""
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to replace it")
    source = sqlite_file(db)
    if source is None:
        return _pg_dump(db, target)
    if not source.is_file():
        raise BackupError(f"{source}: no such database")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        source_conn, partial_conn = sqlite3.connect(source, timeout=30), sqlite3.connect(partial)
        with closing(source_conn) as src, closing(partial_conn) as dst:
            src.backup(dst)  # all pages in one step: one read transaction, one state
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            events = _count_events(dst)
            check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the snapshot of {source} fails SQLite's check: {check}")
        _fsync(partial)
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"backing up {source}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return f"backed up {source} ({events:,} events) to {target}"


def _count_events(conn: sqlite3.Connection) -> int:
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not (yet) a usagekit database


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def libpq(db: str) -> tuple[str, str | None]:
    """`db` as a libpq URL for the PostgreSQL tools, and the schema its search_path names."""
    url = _url(db)
    options = unquote(str(url.query.get("options", "")))
    schema = None
    for part in options.split():
        if part.startswith("-csearch_path="):
            schema = part.split("=", 1)[1].split(",")[0]
    plain = url.set(drivername="postgresql")
    return plain.render_as_string(hide_password=False), schema


def _pg_dump(db: str, target: Path) -> str:
    url, schema = libpq(db)
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}"]
    command += [f"--schema={schema}"] if schema else []
    shown = shlex.join([*command, _url(db).set(drivername="postgresql").render_as_string()])
    found = shutil.which("pg_dump")
    if found is None:
        raise BackupError(
            "pg_dump not found: install PostgreSQL's client tools (the server's major "
            f"version or newer) and run: {shown}"
        )
    done = subprocess.run(
        [found, *command[1:], f"--dbname={url}"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"pg_dump failed ({last}); the command was: {shown}")
    return f"dumped {_url(db).render_as_string()} to {target} with pg_dump ({shown})"


def restore(snapshot: Path, db: str, *, force: bool = False) -> str:
    """Put a SQLite snapshot in place as `db`, migrated to this version's schema."""
    try:
        with snapshot.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"{snapshot}: cannot read it ({exc.strerror})") from None
    if head.startswith(PG_DUMP_MAGIC):
        raise BackupError(_pg_restore_guidance(snapshot, db))
    if head != SQLITE_MAGIC:
        raise BackupError(f"{snapshot}: not a usagekit backup (neither SQLite nor pg_dump)")
    target = sqlite_file(db)
    if target is None:
        return _restore_into_postgresql(snapshot, db)
    if _has_data(target) and not force:
        raise BackupError(f"{target} holds data; pass --force to replace it (stop its server)")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with closing(sqlite3.connect(snapshot)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
        _migrate(str(partial))
        _fsync(partial)
        for suffix in ("-wal", "-shm"):  # the replaced database's, not the snapshot's
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"restoring {snapshot}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return f"restored {snapshot} to {target} (schema at revision {migrate.head()})"


def _migrate(db: str) -> None:
    """Upgrade a SQLite file's schema, leaving it one file (its WAL folded back in)."""
    engine = make_engine(db)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")


def _has_data(path: Path) -> bool:
    """Whether a SQLite file holds any row (a file with only an empty schema does not)."""
    if not path.exists():
        return False
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return any(
            conn.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone()
            for name in tables
            if name != "alembic_version" and not name.startswith("sqlite_")
        )


def _restore_into_postgresql(snapshot: Path, db: str) -> str:
    """A SQLite snapshot into an empty PostgreSQL database: `usagekit copy`'s copier."""
    work = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.restore")
    try:
        with closing(sqlite3.connect(snapshot)) as src, closing(sqlite3.connect(work)) as dst:
            src.backup(dst)  # migrated as a copy: the snapshot itself stays as it was
        _migrate(str(work))
        source, target = make_engine(str(work)), make_engine(db)
        try:
            migrate.upgrade(target)
            copy_all(source, target, lambda _table, _rows: None)
        except TargetNotEmpty:
            raise BackupError(
                f"{_url(db).render_as_string()} holds data: restore into an empty database "
                "or schema (--force does not empty PostgreSQL)"
            ) from None
        finally:
            source.dispose()
            target.dispose()
    finally:
        work.unlink(missing_ok=True)
    return f"restored {snapshot} into {_url(db).render_as_string()}"


def _pg_restore_guidance(snapshot: Path, db: str) -> str:
    shown = _url(db).set(drivername="postgresql").render_as_string()
    command = shlex.join(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", shown])
    return (
        f"{snapshot} is a pg_dump archive: restore it into an empty database with "
        f"`{command} {shlex.quote(str(snapshot))}`, then `usagekit migrate --db {shown}`"
    )
