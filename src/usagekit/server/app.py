"""The ASGI application: `create_app(settings)`."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from usagekit import __version__
from usagekit.server import dashboard, errors, openapi, profiles
from usagekit.server.body_limit import BodyLimit
from usagekit.server.context import Context
from usagekit.server.observe import RequestLog
from usagekit.server.routes import (
    admin,
    alerts,
    events,
    failures,
    health,
    ingest_health,
    limits,
    meters,
    webhooks,
)
from usagekit.server.routes import metrics as metrics_route
from usagekit.server.settings import Settings
from usagekit.services import metrics
from usagekit.services.admin import Bootstrapped, Outcome
from usagekit.services.presets import ensure_presets
from usagekit.store import Store

KEY_VARIABLE = "USAGEKIT_API_KEY"  # what the CLI and the SDK read the key from


def announce_key(made: Bootstrapped | None, settings: Settings) -> None:
    """Say once what bootstrap did: a generated key as a block to save (with the export
    line the CLI and SDK read), a key not installed as one line saying why and what to do."""
    if made is None:
        return
    key = made.key
    given = "from USAGEKIT_BOOTSTRAP_KEY" if settings.bootstrap_key else ""
    if made.outcome is Outcome.CREATED and not given:
        message = (
            f"created tenant 'default' and admin key {key.id}. Save its secret now, it is "
            f"shown only this once:\n\n    export {KEY_VARIABLE}={made.secret}\n"
        )
    elif made.outcome is Outcome.CREATED:
        message = f"created tenant 'default' and admin key {key.id} {given}"
    elif made.outcome is Outcome.ADDED:
        message = (
            f"added admin key {key.id} of tenant 'default' {given} "
            "(no live admin key of 'default' had that secret)"
        )
    else:
        state = ", revoked" if key.revoked_ms is not None else ""
        message = (
            f"USAGEKIT_BOOTSTRAP_KEY was NOT installed as an admin key: it is the secret of "
            f"key {key.id} (tenant {key.tenant_name!r}, role {key.role.value}{state}). Set it "
            "to a new secret and restart, or with an admin key run "
            "`usagekit keys create --role admin`"
        )
    # Printed, not logged: the one time the key is shown, whatever the log level.
    print(f"usagekit: {message}", flush=True)


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app; the store opens (and the first admin key is made) at startup."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_store = store is None
        clock = settings.clock()
        opened = (
            store
            if store is not None
            else await run_in_threadpool(
                partial(Store.open, settings.db, synchronous=settings.synchronous, clock=clock)
            )
        )
        context = Context(settings, opened)
        made = await run_in_threadpool(context.admin.bootstrap, settings.bootstrap_key)
        announce_key(made, settings)
        await run_in_threadpool(ensure_presets, opened)
        await context.writer.start()
        sampler = asyncio.create_task(metrics_route.sample_processes(context.writer))
        # Webhooks go out beside the writer, never in a request (services.delivery).
        delivering = asyncio.create_task(context.deliverer.run(), name="usagekit-webhooks")
        app.state.ctx = context
        # Modules, routes and caches live as long as the server: leave them out of every
        # garbage collection, which otherwise walks them all on each full pass.
        gc.freeze()
        try:
            yield
        finally:
            sampler.cancel()
            delivering.cancel()
            await asyncio.gather(delivering, return_exceptions=True)
            await context.writer.stop()
            metrics.forget_process()
            context.buckets.close()
            if own_store:
                opened.close()

    app = App(
        metrics_on=settings.metrics,
        title="usagekit",
        version=__version__,
        description="Usage metering: events in exactly once; totals, time series and CSV out.",
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
        docs_url=None,  # openapi.install serves /docs from the package (no CDN)
        redoc_url=None,
    )
    for module in (
        health,
        events,
        ingest_health,
        meters,
        limits,
        failures,
        admin,
        alerts,
        webhooks,
    ):
        app.include_router(module.router)
    if settings.metrics:
        app.include_router(metrics_route.router)
    app.include_router(dashboard.router)
    errors.install(app, profiles.install(app))
    app.add_middleware(BodyLimit, limit=settings.body_limit)
    openapi.install(app)
    return app


class App(FastAPI):
    """FastAPI with server.observe's RequestLog outside everything, Starlette's own
    error middleware included, so every response carries its request id."""

    def __init__(self, *, metrics_on: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics_on = metrics_on

    def build_middleware_stack(self) -> ASGIApp:
        return RequestLog(super().build_middleware_stack(), self.routes, self.metrics_on)
