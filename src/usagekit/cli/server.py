"""Server-side commands: `serve`, `rebuild`, `migrate` (they open the database directly)."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
from dataclasses import replace
from typing import Annotated

import typer

from usagekit.cli.common import app, console
from usagekit.server.settings import Settings, SettingsError

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="USAGEKIT_DB",
        help="Database: a SQLite file path, sqlite:///path, or postgresql://user@host:port/db.",
    ),
]


@app.command()
def serve(
    db: DbOption = "usagekit.db",
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port.", envvar="USAGEKIT_PORT")
    ] = 8200,
    body_limit: Annotated[
        int,
        typer.Option(
            help="Largest request body in bytes; larger ones get 413.", envvar="USAGEKIT_BODY_LIMIT"
        ),
    ] = 1024 * 1024,
    rate_limit: Annotated[
        float,
        typer.Option(
            help="Requests per second allowed per API key (429 beyond); 0 is off.",
            envvar="USAGEKIT_RATE_LIMIT",
        ),
    ] = 0.0,
    rate_burst: Annotated[
        int,
        typer.Option(
            help="Requests a key may send at once before --rate-limit applies; "
            "0 means twice the rate (at least 1).",
            envvar="USAGEKIT_RATE_BURST",
        ),
    ] = 0,
    auth_failure_limit: Annotated[
        float,
        typer.Option(
            help="Failed authentications per second allowed per client address, in bursts "
            "of ten times that (at least 10); beyond, every attempt from it gets 429. 0 is off.",
            envvar="USAGEKIT_AUTH_FAILURE_LIMIT",
        ),
    ] = 1.0,
    sqlite_synchronous: Annotated[
        str,
        typer.Option(
            help="SQLite durability: FULL (fsync every commit) or NORMAL "
            "(survives a process crash, not a power cut).",
            envvar="USAGEKIT_SQLITE_SYNCHRONOUS",
        ),
    ] = "FULL",
    writer: Annotated[
        str,
        typer.Option(
            help="process: parse and write ingested events in a child process, "
            "isolated from queries (default); thread: everything in one process."
        ),
    ] = "process",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="API processes sharing the port (each with its own writer; writes to one "
            "database are serialised, so more workers mainly serve more queries).",
            envvar="USAGEKIT_WORKERS",
        ),
    ] = 1,
    max_inflight: Annotated[
        int,
        typer.Option(
            min=1,
            help="Ingest requests in flight per server process (being read, parsed or "
            "waiting for the writer); more get 503 with Retry-After at once.",
            envvar="USAGEKIT_MAX_INFLIGHT",
        ),
    ] = Settings.max_inflight,
    max_inflight_bytes: Annotated[
        int,
        typer.Option(
            min=1,
            help="Bytes of ingest bodies in flight per server process; more get 503.",
            envvar="USAGEKIT_MAX_INFLIGHT_BYTES",
        ),
    ] = Settings.max_inflight_bytes,
    log_level: Annotated[
        str, typer.Option(help="debug, info, warning or error.", envvar="USAGEKIT_LOG_LEVEL")
    ] = "info",
    log_format: Annotated[
        str,
        typer.Option(
            help="Log lines as logfmt (key=value) or json (one object per line).",
            envvar="USAGEKIT_LOG_FORMAT",
        ),
    ] = "logfmt",
    metrics: Annotated[
        bool,
        typer.Option(
            "--metrics/--no-metrics",
            help="Serve Prometheus metrics at /metrics (no key needed, no tenant data).",
            envvar="USAGEKIT_METRICS",
        ),
    ] = True,
) -> None:
    """Run the API server (SQLite usagekit.db by default).

    On first start it creates tenant 'default' and an admin key: USAGEKIT_BOOTSTRAP_KEY
    if set, else a new key printed once.
    """
    import uvicorn

    metrics_directory(metrics)  # before anything imports prometheus_client
    from usagekit.server.app import create_app
    from usagekit.server.logs import uvicorn_logging
    from usagekit.server.ratelimit import create_table_file
    from usagekit.server.secret import server_secret

    try:
        settings = Settings.from_env(
            db=db,
            body_limit=body_limit,
            rate_limit=rate_limit,
            rate_burst=rate_burst,
            auth_failure_limit=auth_failure_limit,
            synchronous=sqlite_synchronous.upper(),
            writer=writer,
            max_inflight=max_inflight,
            max_inflight_bytes=max_inflight_bytes,
            log_format=log_format,
            metrics=metrics,
        )
        logs = uvicorn_logging(settings.log_format, log_level)
        settings = replace(settings, rate_table=None)  # made below for workers, never inherited
        server_secret(settings)  # made (or found unreadable) now, not at the first request
    except SettingsError as exc:
        console.print(f"usagekit serve: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    console.print(f"usagekit serving {db} on http://{host}:{port} (docs at /docs)")
    if workers == 1:
        exit_quietly_after_shutdown()
        uvicorn.run(create_app(settings), host=host, port=port, server_header=False, **logs)
        return
    # Workers build the app from the environment; the schema, the first key and the
    # presets are made here first, once, so workers never race to create them. They
    # share one table of rate-limit buckets, made here and removed when they are done.
    prepare(settings)
    table = create_table_file()
    os.environ.update(replace(settings, rate_table=table).as_env())
    try:
        uvicorn.run(
            "usagekit.server.app:create_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            server_header=False,
            **logs,
        )
    finally:
        os.unlink(table)


def metrics_directory(metrics: bool) -> None:
    """A private PROMETHEUS_MULTIPROC_DIR for this server's processes, removed at exit.

    Every process (workers, writers) keeps its metric values in files there, which
    /metrics sums; prometheus_client reads the variable when first imported.
    """
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if metrics:
        path = tempfile.mkdtemp(prefix="usagekit-metrics-")
        atexit.register(shutil.rmtree, path, True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path


def exit_quietly_after_shutdown() -> None:
    """Make SIGINT and SIGTERM end `serve` with status 0 once uvicorn has shut down.

    uvicorn catches them to drain requests and stop the app, then raises them again
    under the handlers it found: with these no-ops that ends in a normal return.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)


def prepare(settings: Settings) -> None:
    """Migrate, bootstrap and ensure presets before several workers start."""
    from usagekit.server.app import announce_key
    from usagekit.services.admin import Admin
    from usagekit.services.presets import ensure_presets
    from usagekit.store import Store

    store = Store.open(settings.db, synchronous=settings.synchronous)
    try:
        announce_key(Admin(store).bootstrap(settings.bootstrap_key), settings)
        ensure_presets(store)
    finally:
        store.close()


@app.command()
def rebuild(
    db: DbOption = "usagekit.db",
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (by name).")] = None,
) -> None:
    """Recompute every meter's aggregates from the raw events (safe while the server runs)."""
    from usagekit.store import Store

    store = Store.open(db)
    tenant_id = None
    if tenant is not None:
        found = store.accounts.tenant_by_name(tenant)
        if found is None:
            console.print(f"[red]no tenant named {tenant!r}[/red]")
            raise typer.Exit(1)
        tenant_id = found.id
    with console.status("rebuilding rollups from raw events..."):
        count = store.rebuild(tenant_id)
    console.print(f"rebuilt {count} meter(s)")
    store.close()


@app.command()
def migrate(
    db: DbOption = "usagekit.db",
    check: Annotated[
        bool, typer.Option("--check", help="Only report; exit 1 if an upgrade is due.")
    ] = False,
) -> None:
    """Upgrade the database schema to this version's (the server also does it at start)."""
    from usagekit.store import Store, migrate

    store = Store.open(db, create=False)
    try:
        before, newest = migrate.current(store.engine), migrate.head()
        if before == newest:
            console.print(f"schema is up to date (revision {newest})")
            return
        if check:
            console.print(f"schema at revision {before or 'none'}; {newest} is due")
            raise typer.Exit(1)
        with console.status(f"upgrading schema {before or '(empty)'} -> {newest}..."):
            migrate.upgrade(store.engine)
        console.print(f"schema upgraded from {before or '(empty)'} to {newest}")
    finally:
        store.close()
