"""`usagekit limits`: define limits on meters and read a subject's standing against them."""

from __future__ import annotations

from dataclasses import asdict
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
    pairs,
    render,
)

limits = typer.Typer(
    help="Limits on meters: list, create, show, update, delete, and a subject's status.",
    no_args_is_help=True,
)
app.add_typer(limits, name="limits")

COLUMNS = ["slug", "meter", "period", "tz", "limit", "thresholds", "scope", "filter"]
STATUS_COLUMNS = ["slug", "subject", "usage", "limit", "remaining", "has_access", "percent",
                  "period_start", "period_end", "thresholds_reached"]  # fmt: skip
SlugArg = Annotated[str, typer.Argument(help="Limit slug.")]
PeriodOption = Annotated[
    str | None, typer.Option(help="day, week, month, rolling_7d or rolling_30d.")
]
TzOption = Annotated[str | None, typer.Option(help="IANA time zone of the period's edges.")]
ThresholdOption = Annotated[
    list[str] | None, typer.Option(help="A percent of the limit (repeatable; default 100).")
]
ScopeOption = Annotated[str | None, typer.Option(help="subject (each subject) or tenant.")]
FilterOption = Annotated[
    list[str] | None, typer.Option(help="DIMENSION=VALUE: only this usage counts (repeatable).")
]
DescriptionOption = Annotated[str | None, typer.Option(help="What the limit is for.")]
AtOption = Annotated[
    str | None, typer.Option(help="An instant (RFC 3339 or Unix ms) picking the period.")
]


def _rows(items: list[Any]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]


@limits.command("list")
def limits_list(
    fmt: FormatOption = Format.table, url: UrlOption = None, api_key: KeyOption = None
) -> None:
    """The tenant's limits."""
    with connect(url, api_key) as client:
        render(_rows(client.limits()), COLUMNS, fmt, "limits")


@limits.command("show")
def limits_show(
    slug: SlugArg, fmt: FormatOption = Format.table, url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:  # fmt: skip
    """One limit."""
    with connect(url, api_key) as client:
        render(_rows([client.get_limit(slug)]), [*COLUMNS, "description"], fmt)


@limits.command("create")
def limits_create(
    slug: Annotated[str, typer.Argument(help="Lowercase name, e.g. api_calls_plan.")],
    meter: Annotated[str, typer.Option(help="The meter whose usage is limited.")],
    period: Annotated[str, typer.Option(help="day, week, month, rolling_7d or rolling_30d.")],
    limit: Annotated[str, typer.Option(help="The value usage is held against (exact).")],
    tz: Annotated[str, typer.Option(help="IANA time zone of the period's edges.")] = "UTC",
    threshold: ThresholdOption = None,
    scope: Annotated[str, typer.Option(help="subject (each subject) or tenant.")] = "subject",
    filter: FilterOption = None,
    description: DescriptionOption = None,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Create a limit on a meter."""
    filters = pairs(filter, "--filter") or None
    with connect(url, api_key) as client:
        made = client.create_limit(
            slug, meter, period, limit, tz=tz, thresholds=threshold, scope=scope,
            filter=filters, description=description,
        )  # fmt: skip
    console.print(f"created limit [bold]{made.slug}[/bold]")


@limits.command("update")
def limits_update(
    slug: SlugArg,
    period: PeriodOption = None,
    tz: TzOption = None,
    limit: Annotated[str | None, typer.Option(help="A new value (exact).")] = None,
    threshold: ThresholdOption = None,
    scope: ScopeOption = None,
    filter: FilterOption = None,
    description: DescriptionOption = None,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Change the options given; the rest stay."""
    filters = pairs(filter, "--filter") or None
    with connect(url, api_key) as client:
        changed = client.update_limit(
            slug, period=period, tz=tz, limit=limit, thresholds=threshold, scope=scope,
            filter=filters, description=description,
        )  # fmt: skip
    console.print(f"updated limit [bold]{changed.slug}[/bold]")


@limits.command("delete")
def limits_delete(
    slug: SlugArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Delete a limit (the meter and its usage stay)."""
    if not yes:
        typer.confirm(f"delete limit {slug!r}?", abort=True)
    with connect(url, api_key) as client:
        client.delete_limit(slug)
    console.print(f"deleted limit {slug}")


@limits.command("status")
def limits_status(
    slug: Annotated[
        str | None, typer.Argument(help="A limit; leave out with --subject for all of them.")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="The subject (per-subject limits).")] = None,
    at: AtOption = None,
    fmt: FormatOption = Format.table,
    url: UrlOption = None,
    api_key: KeyOption = None,
) -> None:
    """Usage against a limit in the current period (or --at's); every limit of --subject
    when no limit is named."""
    with connect(url, api_key) as client:
        if slug is not None:
            found = [client.limit_status(slug, subject, at=at)]
        elif subject is not None:
            found = client.subject_limits(subject, at=at)
        else:
            raise typer.BadParameter("name a limit, or a --subject", param_hint="SLUG")
    render(_rows(found), STATUS_COLUMNS, fmt, "status")
