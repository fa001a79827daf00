"""What every command shares: the app, consoles, connection options and output formats."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from usagekit.client import Client

app = typer.Typer(
    name="usagekit",
    help="Self-hosted usage metering: ingest events exactly once, query totals and time series.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)  # progress, messages and errors
out = Console(soft_wrap=True)  # results, so they can be piped

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="USAGEKIT_URL",
        help="Server URL, e.g. http://127.0.0.1:8200.",
        show_default=False,
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key", envvar="USAGEKIT_API_KEY", help="API key (Bearer).", show_default=False
    ),
]
_NO_OFFSET = "a date or a date-time without offset is in --tz (else UTC)"
FromOption = Annotated[
    str | None,
    typer.Option("--from", help=f"Start (inclusive): RFC 3339, a date, or Unix ms; {_NO_OFFSET}."),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", help=f"End (exclusive): RFC 3339, a date, or Unix ms; {_NO_OFFSET}."),
]


AllOption = Annotated[
    bool,
    typer.Option(
        "--all",
        help="Also the profile presets the tenant does not use (idle, or repeating an own meter).",
    ),
]


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


def fail(message: str) -> NoReturn:
    """One red line and exit status 2: nothing was done."""
    console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def connect(url: str | None, api_key: str | None) -> Client:
    """The SDK client; missing settings are named as the CLI spells them."""
    from usagekit.client import Client

    if not url:
        fail("no server URL: use --url or set USAGEKIT_URL (e.g. http://127.0.0.1:8200)")
    if not api_key:
        fail("no API key: use --api-key or set USAGEKIT_API_KEY")
    return Client(url, api_key)


def _print_version(value: bool) -> None:
    if value:
        from usagekit import __version__

        print(f"usagekit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Self-hosted usage metering: ingest events exactly once, query totals and time series."""


def pairs(values: Sequence[str] | None, option: str) -> dict[str, list[str]]:
    """Repeated NAME=VALUE options as {name: [values]}."""
    found: dict[str, list[str]] = {}
    for item in values or ():
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint=option)
        found.setdefault(name, []).append(value)
    return found


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:,.9f}".rstrip("0").rstrip(".")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def _exact(value: Any) -> Any:
    """An exact total (a Decimal: more digits than a float keeps) as the number it is."""
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} is not JSON")


def render(rows: list[dict[str, Any]], columns: list[str], fmt: Format, title: str = "") -> None:
    """Rows as a table on the terminal, or CSV / JSON on stdout for other programs."""
    if fmt is Format.json:
        options = orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC
        sys.stdout.write(orjson.dumps(rows, option=options, default=_exact).decode() + "\n")
    elif fmt is Format.csv:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                [
                    v.isoformat() if isinstance(v, datetime) else ("" if v is None else v)
                    for v in (row.get(c) for c in columns)
                ]
            )
    else:
        table = Table(title=title or None, show_lines=False)
        for name in columns:
            if name in ("value", "count"):
                table.add_column(name, justify="right", overflow="fold")
            else:
                table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in columns))
        out.print(table)
