"""`usagekit backup` and `usagekit restore`: snapshots of a live database, and putting one back."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from usagekit.cli.common import app, console
from usagekit.cli.server import DbOption, _settings

FileArgument = Annotated[Path, typer.Argument(help="The backup file.", show_default=False)]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace what is there.")]


@app.command()
def backup(
    file: FileArgument,
    db: DbOption = None,
    force: ForceOption = False,
    with_secret: Annotated[
        bool,
        typer.Option(
            "--with-secret", help="Also copy the server secret file, to FILE.secret (mode 0600)."
        ),
    ] = False,
) -> None:
    """Write a consistent snapshot of the database while the server runs and ingests.

    SQLite: a single-file copy by SQLite's online backup. PostgreSQL: a pg_dump archive
    (custom format). The server secret is left out unless --with-secret.
    """
    from usagekit.server.secret import secret_path
    from usagekit.store.snapshots import BackupError
    from usagekit.store.snapshots import backup as make_backup

    settings = _settings("backup", {"db": db}, None)
    try:
        console.print(make_backup(settings.db, file, force=force), markup=False, soft_wrap=True)
    except BackupError as exc:
        _fail("backup", exc)
    secret = None if settings.secret else secret_path(settings)
    if secret is None or not secret.is_file():
        return
    if with_secret:
        copy = file.with_name(file.name + ".secret")
        shutil.copyfile(secret, copy)
        copy.chmod(0o600)
        console.print(f"copied the server secret {secret} to {copy}", markup=False)
    else:
        console.print(
            f"the server secret {secret} is not in the backup: keep a copy apart from the "
            "database backups (without it only Elevate access tokens already issued stop "
            "working), or pass --with-secret",
            markup=False,
            soft_wrap=True,
        )


@app.command()
def restore(
    file: FileArgument,
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a SQLite database that holds data.")
    ] = False,
) -> None:
    """Restore a backup as the database --db (stop its server first).

    A SQLite snapshot replaces a SQLite file (migrated to this version's schema), or is
    copied into an empty PostgreSQL database; for a pg_dump archive it prints the
    pg_restore command. A FILE.secret beside it becomes the server secret where none is.
    """
    from usagekit.server.secret import secret_path
    from usagekit.store.snapshots import BackupError
    from usagekit.store.snapshots import restore as put_back

    settings = _settings("restore", {"db": db}, None)
    try:
        console.print(put_back(file, settings.db, force=force), markup=False, soft_wrap=True)
    except BackupError as exc:
        _fail("restore", exc)
    saved = file.with_name(file.name + ".secret")
    secret = secret_path(settings)
    if saved.is_file() and not settings.secret and not secret.exists():
        shutil.copyfile(saved, secret)
        secret.chmod(0o600)
        console.print(f"restored the server secret {saved} to {secret}", markup=False)


def _fail(command: str, exc: Exception) -> NoReturn:
    console.print(f"usagekit {command}: {exc}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)
