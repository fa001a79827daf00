"""Commands that manage a tenant: meters, keys, tenants and failures."""

from __future__ import annotations

from dataclasses import asdict
from itertools import islice
from typing import Annotated, Any

import typer

from usagekit.cli.common import (
    AllOption,
    Format,
    FormatOption,
    KeyOption,
    UrlOption,
    app,
    connect,
    console,
    pairs,
    render,
)

meters = typer.Typer(help="List, show, create and delete meters.", no_args_is_help=True)
keys = typer.Typer(help="List, create and revoke API keys.", no_args_is_help=True)
tenants = typer.Typer(
    help="List and create tenants (admin of tenant 'default').", no_args_is_help=True
)
failures = typer.Typer(
    help="Rejected and unprocessable records: list, retry, clear.", no_args_is_help=True
)
app.add_typer(meters, name="meters")
app.add_typer(keys, name="keys")
app.add_typer(tenants, name="tenants")
app.add_typer(failures, name="failures")

METER_COLUMNS = [
    "slug", "event_type", "aggregation", "value_property", "dimensions", "unit", "profile"
]  # fmt: skip
SlugArg = Annotated[str, typer.Argument(help="Meter slug.")]
FailureIds = Annotated[
    list[int], typer.Argument(help="Failure ids (see `usagekit failures list`).")
]
KEY_COLUMNS = ["id", "tenant", "role", "subject", "name", "prefix", "created", "revoked"]


def _rows(items: list[Any]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]


@meters.command("list")
def meters_list(
    everything: AllOption = False,
    fmt: FormatOption = Format.table,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """The tenant's own meters, and the profile presets it uses (--all: every preset)."""
    with connect(url, api_key) as client:
        render(_rows(client.meters(include_presets=everything)), METER_COLUMNS, fmt, "meters")


@meters.command("show")
def meters_show(
    slug: SlugArg,
    fmt: FormatOption = Format.table,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """One meter."""
    with connect(url, api_key) as client:
        render(_rows([client.get_meter(slug)]), [*METER_COLUMNS, "description"], fmt)


@meters.command("create")
def meters_create(
    slug: Annotated[str, typer.Argument(help="Lowercase name, e.g. cpu_time.")],
    event_type: Annotated[str, typer.Option(help="Events of this type feed the meter.")],
    aggregation: Annotated[
        str, typer.Option(help="sum, count, unique_count, min, max, avg or latest.")
    ],
    value_property: Annotated[
        str | None, typer.Option(help="Dotted path into data (not for count).")
    ] = None,
    dimension: Annotated[
        list[str] | None, typer.Option(help="NAME=PATH into data (repeatable).")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Unit shown with values.")] = None,
    description: Annotated[str | None, typer.Option(help="What the meter measures.")] = None,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Create a meter; it also covers events already stored."""
    dims = {name: paths[-1] for name, paths in pairs(dimension, "--dimension").items()}
    with connect(url, api_key) as client:
        made = client.create_meter(
            slug, event_type, aggregation, value_property, dims, unit, description
        )
    console.print(f"created meter [bold]{made.slug}[/bold]")


@meters.command("delete")
def meters_delete(
    slug: SlugArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Delete a meter and its aggregates (events stay)."""
    if not yes:
        typer.confirm(f"delete meter {slug!r} and its aggregates?", abort=True)
    with connect(url, api_key) as client:
        client.delete_meter(slug)
    console.print(f"deleted meter {slug}")


@keys.command("list")
def keys_list(
    fmt: FormatOption = Format.table, url: UrlOption = None, api_key: KeyOption = None
) -> None:
    """The tenant's keys (secrets are never shown again)."""
    with connect(url, api_key) as client:
        render(_rows(client.api_keys()), KEY_COLUMNS, fmt, "keys")


@keys.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, ingest or read.")],
    tenant: Annotated[
        str | None, typer.Option(help="Tenant name (default: the key's own).")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="Bind the key to one subject (user).")] = None,
    name: Annotated[str | None, typer.Option(help="A label.")] = None,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Create a key and print its secret (shown only this once) on stdout."""
    with connect(url, api_key) as client:
        made = client.create_key(role, tenant=tenant, subject=subject, name=name)
    console.print(f"created {made.role} key {made.id} for tenant {made.tenant}; the secret:")
    print(made.key)


@keys.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `usagekit keys list`).")],
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Revoke a key by id; requests with it get 401 from now on."""
    with connect(url, api_key) as client:
        client.revoke_key(key_id)
    console.print(f"revoked {key_id}")


@tenants.command("list")
def tenants_list(
    fmt: FormatOption = Format.table, url: UrlOption = None, api_key: KeyOption = None
) -> None:
    """Every tenant."""
    with connect(url, api_key) as client:
        render(_rows(client.tenants()), ["id", "name", "created"], fmt, "tenants")


@tenants.command("create")
def tenants_create(
    name: Annotated[str, typer.Argument(help="The new tenant's name.")],
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Create a tenant; then `usagekit keys create --tenant NAME --role admin`."""
    with connect(url, api_key) as client:
        made = client.create_tenant(name)
    console.print(f"created tenant {made.name} (id {made.id})")


@failures.command("list")
def failures_list(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    fmt: FormatOption = Format.table,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Refused records with their errors, newest first."""
    with connect(url, api_key) as client:
        found = client.failures(page_size=min(limit, 1000))
        rows = [asdict(failure) for failure in islice(found, limit)]
    render(rows, ["id", "received", "channel", "error", "record"], fmt, "failures")


@failures.command("retry")
def failures_retry(ids: FailureIds, url: UrlOption = None, api_key: KeyOption = None) -> None:
    """Re-submit failed records; those now accepted are cleared."""
    still = 0
    with connect(url, api_key) as client:
        for failure_id in ids:
            outcome = client.retry_failure(failure_id)
            if outcome.cleared:
                console.print(f"{failure_id}: accepted, cleared")
            else:
                still += 1
                errors = "; ".join(r.error for r in outcome.result.rejected) or "not accepted"
                console.print(f"{failure_id}: [red]{errors}[/red]")
    if still:
        raise typer.Exit(1)


@failures.command("clear")
def failures_clear(ids: FailureIds, url: UrlOption = None, api_key: KeyOption = None) -> None:
    """Delete failed records you have dealt with."""
    with connect(url, api_key) as client:
        for failure_id in ids:
            client.clear_failure(failure_id)
    console.print(f"cleared {len(ids)}")
