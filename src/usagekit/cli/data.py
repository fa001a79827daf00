"""Commands on usage data: send, query, summary, events, export, void."""

from __future__ import annotations

import sys
import time
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from usagekit.cli.common import (
    AllOption,
    Format,
    FormatOption,
    FromOption,
    KeyOption,
    ToOption,
    UrlOption,
    app,
    connect,
    console,
    pairs,
    render,
)
from usagekit.cli.readers import FORMATS, EventReader, guess_format, open_input


@app.command()
def send(
    file: Annotated[str, typer.Argument(help="Events file, or - for stdin.")],
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format", "-i", help="ndjson, json or csv (default: from the file name)."
        ),
    ] = None,
    old_format: Annotated[
        str | None,
        typer.Option("--format", hidden=True, help="Old spelling of --input-format."),
    ] = None,
    rejected: Annotated[
        Path | None,
        typer.Option(help="Write refused records here as NDJSON: line, error and the record."),
    ] = None,
    batch_bytes: Annotated[
        int, typer.Option(help="Largest request body; the server's limit is 1 MiB by default.")
    ] = 768 * 1024,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Send events from a file (NDJSON, JSON or CSV) with a progress bar.

    Re-sending a file is safe: events already stored count as duplicates. Exits 1
    if any record was refused.
    """
    fmt = input_format or old_format or guess_format(file)
    if fmt not in FORMATS:
        raise typer.BadParameter("use ndjson, json or csv", param_hint="--input-format")
    source, size = open_input(file)
    reader = EventReader(source, fmt)
    counts = {"events": 0}
    started = time.perf_counter()
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]sending"),
        BarColumn(),
        TextColumn("{task.fields[events]:,} events · {task.fields[rate]:,.0f}/s"),
        TimeElapsedColumn(),
    ]
    with connect(url, api_key) as client, Progress(*columns, console=console) as progress:
        task = progress.add_task("send", total=size, events=0, rate=0.0)

        def advance(n: int) -> None:
            counts["events"] += n
            rate = counts["events"] / max(time.perf_counter() - started, 1e-9)
            progress.update(task, completed=reader.position, events=counts["events"], rate=rate)

        result = client.send(reader, max_body_bytes=batch_bytes, on_progress=advance)
        progress.update(task, completed=reader.position)
    source.close()
    elapsed = time.perf_counter() - started
    refused = len(result.rejected) + len(reader.broken)
    console.print(
        f"[green]{result.accepted:,} accepted[/green], {result.duplicates:,} duplicates, "
        f"{result.conflicts:,} conflicts, "
        + (f"[red]{refused:,} rejected[/red]" if refused else "0 rejected")
        + f" in {elapsed:.1f} s ({counts['events'] / max(elapsed, 1e-9):,.0f} events/s)"
    )
    problems: list[dict[str, Any]] = [
        {"line": b.line, "id": None, "error": b.error, "record": b.text} for b in reader.broken
    ]
    problems += [
        {
            "line": reader.lines[r.index] or None,
            "index": r.index,
            "id": r.id,
            "error": r.error,
            "record": r.record,
        }
        for r in [*result.rejected, *result.conflicting]
    ]
    for p in problems[:5]:
        where = f"line {p['line']}" if p.get("line") else f"record {p.get('index')}"
        console.print(f"  {where}: {p['error']}")
    if len(problems) > 5:
        console.print(
            f"  ... and {len(problems) - 5:,} more" + ("" if rejected else " (see --rejected)")
        )
    if rejected is not None and problems:
        with rejected.open("wb") as fh:
            for p in problems:
                fh.write(orjson.dumps(p, default=str) + b"\n")
        console.print(f"refused records written to {rejected}")
    if refused:
        raise typer.Exit(1)


@app.command()
def query(
    meter: Annotated[str, typer.Argument(help="Meter slug.")],
    start: FromOption = None,
    end: ToOption = None,
    granularity: Annotated[str, typer.Option(help="minute, hour, day, week or month.")] = "day",
    group_by: Annotated[
        list[str] | None, typer.Option("--group-by", "-g", help="Dimension (repeatable).")
    ] = None,
    tz: Annotated[str, typer.Option(help="IANA time zone for buckets.")] = "UTC",
    aggregation_type: Annotated[
        str, typer.Option(help="incremental, month_to_date, rolling_7d or rolling_30d.")
    ] = "incremental",
    filters: Annotated[
        list[str] | None, typer.Option("--filter", help="DIMENSION=VALUE (repeatable).")
    ] = None,
    subject: Annotated[list[str] | None, typer.Option(help="Only these subjects.")] = None,
    fmt: FormatOption = Format.table,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """A meter's time series, one row per bucket (and group)."""
    with connect(url, api_key) as client:
        result = client.query(
            meter,
            start,
            end,
            granularity=granularity,
            tz=tz,
            aggregation_type=aggregation_type,
            group_by=group_by,
            filters=pairs(filters, "--filter"),
            subjects=subject,
        )
    columns = ["start", "end", *result.group_names, "value"]
    title = f"{meter} · {granularity} · {aggregation_type} · {tz}"
    render(result.rows(), columns, fmt, title)


@app.command()
def summary(
    start: FromOption = None,
    end: ToOption = None,
    group_by: Annotated[
        list[str] | None, typer.Option("--group-by", "-g", help="Dimension (repeatable).")
    ] = None,
    everything: AllOption = False,
    fmt: FormatOption = Format.table,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """One total per meter (and group) over the range, for the meters `meters list` shows."""
    with connect(url, api_key) as client:
        result = client.summary(start, end, group_by=group_by, include_presets=everything)
    columns = ["meter", *(group_by or []), "value", "unit"]
    render(
        result.rows(),
        columns,
        fmt,
        f"usage {result.start:%Y-%m-%d %H:%M} to {result.end:%Y-%m-%d %H:%M} UTC",
    )


@app.command()
def events(
    start: FromOption = None,
    end: ToOption = None,
    type: Annotated[str | None, typer.Option(help="Only this event type.")] = None,
    subject: Annotated[str | None, typer.Option(help="Only this subject.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    fmt: FormatOption = Format.table,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Recent events, newest first; voided ones have the time they were voided (voided_at)."""
    with connect(url, api_key) as client:
        found = client.events(start, end, type, subject, page_size=min(limit, 1000))
        rows = [
            {
                "time": event.time,
                "id": event.id,
                "source": event.source,
                "type": event.type,
                "subject": event.subject,
                "data": event.data,
                "voided_at": event.voided_at,
            }
            for event in islice(found, limit)
        ]
    render(rows, ["time", "id", "source", "type", "subject", "data", "voided_at"], fmt)


@app.command()
def export(
    file: Annotated[str, typer.Argument(help="CSV file to write, or - for stdout.")],
    start: FromOption = None,
    end: ToOption = None,
    type: Annotated[str | None, typer.Option(help="Only this event type.")] = None,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Every event in the range as CSV (streamed: flat memory at any size)."""
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]exporting"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    ]
    started = time.perf_counter()
    with connect(url, api_key) as client, Progress(*columns, console=console) as progress:
        task = progress.add_task("export", total=None)
        dest = sys.stdout.buffer if file == "-" else Path(file)
        rows = client.export(
            dest, start, end, type, on_progress=lambda n: progress.advance(task, n)
        )
    elapsed = time.perf_counter() - started
    console.print(
        f"{rows:,} events exported in {elapsed:.1f} s ({rows / max(elapsed, 1e-9):,.0f}/s)"
    )


@app.command()
def void(
    ids: Annotated[list[str], typer.Argument(help="Event ids.")],
    source: Annotated[str, typer.Option(help="The events' source.")] = "default",
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Void events: they leave every total and stay listed as voided.

    Voiding again changes nothing and says when each was voided (exit 0); ids not
    found exit 1.
    """
    with connect(url, api_key) as client:
        result = client.void(ids, source=source)
    console.print(f"voided {len(result.voided):,}")
    for event_id, at in result.already_voided.items():
        console.print(f"already voided: {event_id} at {at.isoformat()}", highlight=False)
    if result.not_found:
        console.print(f"[yellow]not found:[/yellow] {', '.join(result.not_found)}")
        raise typer.Exit(1)
