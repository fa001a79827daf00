"""`usagekit copy`: move a deployment to another database, events and all."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from usagekit.cli.common import app, console


@app.command("copy")
def copy_deployment(
    source: Annotated[
        str, typer.Option("--from", help="Database to copy from (path, sqlite:///, postgresql://).")
    ],
    target: Annotated[str, typer.Option("--to", help="Empty database to copy into.")],
) -> None:
    """Copy every tenant, key, meter, event, rollup and failure; then check the counts.

    Stop the servers on the source first (or accept that later events stay behind).
    The target is migrated to this version's schema and must hold no data.
    """
    from usagekit.store import Store
    from usagekit.store.copy import TargetNotEmpty, copy_all, row_counts

    origin, dest = Store.open(source, create=False), Store.open(target)
    try:
        counts = row_counts(origin.engine)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,} rows"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("copying", total=sum(counts.values()))

            def advance(table: str, rows: int) -> None:
                bar.update(task, advance=rows, description=f"copying {table}")

            try:
                copy_all(origin.engine, dest.engine, advance)
            except TargetNotEmpty as exc:
                console.print(f"[red]{exc}[/red]")
                raise typer.Exit(1) from None
        copied = row_counts(dest.engine)
        differ = {t: (n, copied.get(t)) for t, n in counts.items() if copied.get(t) != n}
        if differ:
            console.print(f"[red]row counts differ (source, target): {differ}[/red]")
            raise typer.Exit(1)
        console.print(f"copied {sum(counts.values()):,} rows; every table's count matches")
    finally:
        origin.close()
        dest.close()
