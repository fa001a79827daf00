"""Commands for alerts and webhook endpoints: list, create, update, delete, deliveries."""

from __future__ import annotations

from dataclasses import asdict
from itertools import islice
from typing import Annotated, Any

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

webhooks = typer.Typer(
    help="Webhook endpoints alerts are sent to (admin keys).", no_args_is_help=True
)
app.add_typer(webhooks, name="webhooks")

WEBHOOK_COLUMNS = ["id", "url", "enabled", "event_types", "description", "disabled_reason"]
ALERT_COLUMNS = ["id", "created", "type", "limit", "subject", "threshold", "usage", "limit_value"]
IdArg = Annotated[str, typer.Argument(help="Webhook id (see `usagekit webhooks list`).")]
TypesOption = Annotated[
    list[str] | None,
    typer.Option("--event-type", help="An alert type to send (repeat); default: every type."),
]


def _secret(secret: str | None) -> None:
    if secret:
        console.print("its signing secret, shown only now:")
        print(secret, flush=True)


@webhooks.command("list")
def webhooks_list(
    fmt: FormatOption = Format.table, url: UrlOption = None, api_key: KeyOption = None
) -> None:
    """The tenant's webhook endpoints."""
    with connect(url, api_key) as client:
        render([asdict(w) for w in client.webhooks()], WEBHOOK_COLUMNS, fmt, "webhooks")


@webhooks.command("create")
def webhooks_create(
    target: Annotated[str, typer.Argument(help="The receiver's http(s) URL.")],
    event_types: TypesOption = None,
    description: Annotated[str | None, typer.Option(help="A note.")] = None,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """A new endpoint; prints its signing secret (shown only this once)."""
    with connect(url, api_key) as client:
        made = client.create_webhook(target, event_types or None, description)
    console.print(f"created webhook {made.id} -> {made.url}")
    _secret(made.secret)


@webhooks.command("update")
def webhooks_update(
    webhook_id: IdArg,
    target: Annotated[str | None, typer.Option("--target-url", help="A new URL.")] = None,
    event_types: TypesOption = None,
    description: Annotated[str | None, typer.Option(help="A new note.")] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Turn it on or off.")
    ] = None,
    rotate_secret: Annotated[
        bool, typer.Option("--rotate-secret", help="Make a new signing secret.")
    ] = False,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Change an endpoint (re-enabling clears why it was disabled)."""
    with connect(url, api_key) as client:
        made = client.update_webhook(
            webhook_id,
            url=target,
            event_types=event_types or None,
            description=description,
            enabled=enabled,
            rotate_secret=rotate_secret,
        )
    console.print(f"updated webhook {made.id} (enabled: {made.enabled})")
    _secret(made.secret)


@webhooks.command("delete")
def webhooks_delete(webhook_id: IdArg, url: UrlOption = None, api_key: KeyOption = None) -> None:
    """Delete an endpoint with its delivery log."""
    with connect(url, api_key) as client:
        client.delete_webhook(webhook_id)
    console.print(f"deleted webhook {webhook_id}")


@webhooks.command("deliveries")
def webhooks_deliveries(
    webhook_id: IdArg,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    fmt: FormatOption = Format.table,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """An endpoint's deliveries, newest first, with their last attempt."""
    with connect(url, api_key) as client:
        found = client.webhook_deliveries(webhook_id, limit)
    rows: list[dict[str, Any]] = []
    for d in found:
        last = d.tries[-1] if d.tries else None
        rows.append(
            {
                "id": d.id, "alert_id": d.alert_id, "status": d.status, "attempts": d.attempts,
                "next_attempt": d.next_attempt,
                "last_status": last.status_code if last else None,
                "last_error": last.error if last else None,
            }
        )  # fmt: skip
    columns = ["id", "alert_id", "status", "attempts", "next_attempt", "last_status", "last_error"]
    render(rows, columns, fmt, "deliveries")


@app.command("alerts")
def alerts(
    subject: Annotated[str | None, typer.Option(help="Only this subject's.")] = None,
    limit_slug: Annotated[str | None, typer.Option("--limit", help="Only this limit's.")] = None,
    count: Annotated[int, typer.Option("--count", help="How many, newest first.")] = 100,
    fmt: FormatOption = Format.table,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Alerts: limit thresholds crossed and cleared, newest first."""
    with connect(url, api_key) as client:
        found = list(islice(client.alerts(subject=subject, limit=limit_slug), count))
    render([asdict(a) for a in found], ALERT_COLUMNS, fmt, "alerts")
