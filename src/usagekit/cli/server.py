"""Server-side commands: `serve`, `rebuild`, `migrate` (they open the database directly)."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
from typing import Annotated, Any, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError

from usagekit.cli.common import app, console
from usagekit.server.settings import Settings, SettingsError, env_name, flag_name

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a SQLite file path, sqlite:///path, or postgresql://user@host:port/db "
        "(env USAGEKIT_DB; default: the config file's db, else usagekit.db).",
        show_default=False,
    ),
]


def _option(setting: str, *names: str, **extra: Any) -> Any:
    """A typer option for a setting: help and default shown from the settings model."""
    field = Settings.model_fields[setting]
    default = "" if field.default is None else f"default {field.default}; "
    described = field.description or ""
    return typer.Option(
        *(names or (str(flag_name(setting)),)),
        help=f"{described[:1].upper()}{described[1:]} ({default}env {env_name(setting)}).",
        show_default=False,
        **extra,
    )


ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="A TOML file of settings (keys as in `usagekit config`) (env USAGEKIT_CONFIG).",
        show_default=False,
    ),
]


@app.command()
def serve(
    config: ConfigOption = None,
    db: Annotated[str | None, _option("db")] = None,
    host: Annotated[str | None, _option("host")] = None,
    port: Annotated[int | None, _option("port")] = None,
    workers: Annotated[int | None, _option("workers")] = None,
    body_limit: Annotated[int | None, _option("body_limit")] = None,
    rate_limit: Annotated[float | None, _option("rate_limit")] = None,
    rate_burst: Annotated[int | None, _option("rate_burst")] = None,
    auth_failure_limit: Annotated[float | None, _option("auth_failure_limit")] = None,
    sqlite_synchronous: Annotated[str | None, _option("sqlite_synchronous")] = None,
    writer: Annotated[str | None, _option("writer")] = None,
    max_inflight: Annotated[int | None, _option("max_inflight")] = None,
    max_inflight_bytes: Annotated[int | None, _option("max_inflight_bytes")] = None,
    log_level: Annotated[str | None, _option("log_level")] = None,
    log_format: Annotated[str | None, _option("log_format")] = None,
    metrics: Annotated[bool | None, _option("metrics", "--metrics/--no-metrics")] = None,
    forwarded_allow_ips: Annotated[str | None, _option("forwarded_allow_ips")] = None,
    key_cache_seconds: Annotated[float | None, _option("key_cache_seconds")] = None,
    secret_file: Annotated[str | None, _option("secret_file")] = None,
    fixed_now: Annotated[str | None, _option("fixed_now")] = None,
    webhook_timeout: Annotated[float | None, _option("webhook_timeout")] = None,
    webhook_first_retry: Annotated[float | None, _option("webhook_first_retry")] = None,
    webhook_retry_for: Annotated[float | None, _option("webhook_retry_for")] = None,
    webhook_retention_days: Annotated[float | None, _option("webhook_retention_days")] = None,
    webhook_allow_link_local: Annotated[
        bool | None,
        _option(
            "webhook_allow_link_local",
            "--webhook-allow-link-local/--no-webhook-allow-link-local",
        ),
    ] = None,
) -> None:
    """Run the API server (SQLite usagekit.db by default).

    Settings come from these options, else USAGEKIT_* variables, else the --config file, else the defaults (`usagekit config` shows them).

    On first start it creates tenant 'default' and an admin key: USAGEKIT_BOOTSTRAP_KEY if set, else a new key printed once.
    """  # noqa: E501
    import uvicorn

    flags = {k: v for k, v in locals().items() if k in Settings.model_fields}
    settings = _settings("serve", flags, config).replace(rate_table=None)
    metrics_directory(settings.metrics)  # before anything imports prometheus_client

    from usagekit.server.app import create_app
    from usagekit.server.log_config import uvicorn_logging
    from usagekit.server.ratelimit import create_table_file
    from usagekit.server.secret import server_secret

    try:
        logs = uvicorn_logging(settings.log_format, settings.log_level)
        server_secret(settings)  # made (or found unreadable) now, not at the first request
    except SettingsError as exc:
        _refuse("serve", exc)
    # The first key is made and shown before uvicorn's lines; the app and the workers
    # then find it made and say nothing more of it.
    prepare(settings)
    settings = settings.replace(bootstrap_key=None)
    where = f"http://{settings.host}:{settings.port}"
    console.print(
        f"usagekit serving {settings.db} on {where} (docs at /docs)", markup=False, soft_wrap=True
    )
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "server_header": False,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        **logs,
    }
    if settings.workers == 1:
        exit_quietly_after_shutdown()
        uvicorn.run(create_app(settings), **common)
        return
    # Workers build the app from the environment. They share one table of rate-limit
    # buckets, made here and removed when they are done.
    table = create_table_file()
    os.environ.update(settings.replace(rate_table=table).as_env())
    try:
        uvicorn.run(
            "usagekit.server.app:create_app", factory=True, workers=settings.workers, **common
        )
    finally:
        os.unlink(table)


def _settings(command: str, flags: dict[str, object], config: str | None) -> Settings:
    try:
        return Settings.load(flags, config)
    except SettingsError as exc:
        _refuse(command, exc)


def database(db: str | None, command: str) -> str:
    """The database a command works on: --db, else the settings' (USAGEKIT_DB, the file)."""
    return _settings(command, {"db": db}, None).db


def _refuse(command: str, exc: SettingsError) -> NoReturn:
    console.print(f"usagekit {command}: {exc}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


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
    """Migrate, bootstrap and ensure presets once, before uvicorn starts (and its workers)."""
    from usagekit.server.app import announce_key
    from usagekit.services.admin import Admin
    from usagekit.services.presets import ensure_presets
    from usagekit.store import Store

    try:
        store = Store.open(settings.db, synchronous=settings.synchronous, clock=settings.clock())
    except (SQLAlchemyError, OSError) as exc:
        console.print(
            f"usagekit serve: cannot open the database {settings.display_db}: {exc}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    try:
        announce_key(Admin(store).bootstrap(settings.bootstrap_key), settings)
        ensure_presets(store)
    finally:
        store.close()


@app.command()
def rebuild(
    db: DbOption = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (by name).")] = None,
) -> None:
    """Recompute every meter's aggregates from the raw events (safe while the server runs)."""
    from usagekit.store import Store

    store = Store.open(database(db, "rebuild"))
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
    db: DbOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only report; exit 1 if an upgrade is due.")
    ] = False,
) -> None:
    """Upgrade the database schema to this version's (the server also does it at start)."""
    from usagekit.store import Store, migrate

    store = Store.open(database(db, "migrate"), create=False)
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
