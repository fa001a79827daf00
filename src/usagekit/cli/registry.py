"""`usagekit registry`: the tenant's known projects, resources and users (AMIE)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from usagekit.cli.common import (
    Format,
    FormatOption,
    KeyOption,
    UrlOption,
    app,
    connect,
    console,
    render,
)

registry = typer.Typer(
    help="Known projects, resources and users: AMIE records naming others fail processing.",
    no_args_is_help=True,
)
app.add_typer(registry, name="registry")


class Kind(StrEnum):
    projects = "projects"
    resources = "resources"
    users = "users"


KindArg = Annotated[Kind, typer.Argument(help="projects, resources or users.")]
NamesArg = Annotated[list[str], typer.Argument(help="One or more names.")]


@registry.command("list")
def registry_list(
    fmt: FormatOption = Format.table, url: UrlOption = None, api_key: KeyOption = None
) -> None:
    """Every registered name, by kind (a kind with none is not checked)."""
    with connect(url, api_key) as client:
        found = client.registry()
    rows = [{"kind": kind, "name": name} for kind, names in found.items() for name in names]
    render(rows, ["kind", "name"], fmt, "registry")


@registry.command("add")
def registry_add(
    kind: KindArg, names: NamesArg, url: UrlOption = None, api_key: KeyOption = None
) -> None:
    """Register names; then `usagekit registry retry` loads records that failed on them."""
    with connect(url, api_key) as client:
        added = client.registry_add(kind.value, names)
    console.print(f"added {len(added)} {kind.value} ({len(names) - len(added)} already there)")


@registry.command("remove")
def registry_remove(
    kind: KindArg, names: NamesArg, url: UrlOption = None, api_key: KeyOption = None
) -> None:
    """Unregister names; records naming them fail processing from now on."""
    with connect(url, api_key) as client:
        removed = client.registry_remove(kind.value, names)
    console.print(f"removed {removed} {kind.value}")


@registry.command("retry")
def registry_retry(url: UrlOption = None, api_key: KeyOption = None) -> None:
    """Process every AMIE record that failed processing again, against today's registry."""
    with connect(url, api_key) as client:
        got = client.registry_retry()
    console.print(
        f"retried {got['retried']}: {got['loaded']} loaded, {got['still_failed']} still failing"
    )
    if got["still_failed"]:
        raise typer.Exit(1)
