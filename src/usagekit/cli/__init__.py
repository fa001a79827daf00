"""The `usagekit` command line: the server, and a client of its API (typer + rich)."""

from __future__ import annotations

import sys

# They register their commands.
from usagekit.cli import (  # noqa: F401
    backup,
    config,
    copy,
    data,
    demo,
    limits,
    manage,
    registry,
    server,
    webhooks,
)
from usagekit.cli.common import app, console


def main() -> None:
    """Entry point: SDK and file errors become one red line and exit status 2, not a traceback."""
    from usagekit.errors import UsagekitError

    try:
        app()
    except UsagekitError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(2)
    except OSError as exc:  # a file to read or write: missing, a folder, not allowed
        where = f": {exc.filename}" if exc.filename else ""
        console.print(f"[red]error:[/red] {exc.strerror or exc}{where}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]")
        sys.exit(130)


__all__ = ["app", "main"]
