"""SDK fixtures: the real app in-process, reached through real httpx transports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from tests.conftest import ADMIN_KEY
from usagekit import AsyncClient, Client
from usagekit.server.app import create_app
from usagekit.server.settings import Settings

URL = "http://usagekit.test"


class InProcessTransport(httpx.BaseTransport):
    """A blocking transport onto the ASGI app, whose lifespan and requests run on one
    event loop in a helper thread (httpx ships only the async ASGI transport)."""

    def __init__(self, app: FastAPI, portal: BlockingPortal) -> None:
        self._asgi = httpx.ASGITransport(app)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def run() -> tuple[int, httpx.Headers, bytes]:
            request.stream = httpx.ByteStream(request.read())
            reply = await self._asgi.handle_async_request(request)
            return reply.status_code, reply.headers, await reply.aread()

        status, headers, content = self._portal.call(run)
        return httpx.Response(status, headers=headers, content=content)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


Connect = Callable[[str], Client]


@pytest.fixture
def connect(app: FastAPI) -> Iterator[Connect]:
    """Make sync Clients for any key, against the app running in-process."""
    with ExitStack() as stack:
        portal = stack.enter_context(start_blocking_portal())
        stack.enter_context(portal.wrap_async_context_manager(app.router.lifespan_context(app)))
        transport = InProcessTransport(app, portal)

        def make(key: str) -> Client:
            return stack.enter_context(Client(URL, key, transport=transport, backoff=0.01))

        yield make


@pytest.fixture
def sdk(connect: Connect) -> Client:
    """A sync Client with the admin key of tenant `default`."""
    return connect(ADMIN_KEY)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def async_sdk(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """An AsyncClient with the admin key, through httpx's ASGI transport."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with AsyncClient(URL, ADMIN_KEY, transport=transport, backoff=0.01) as client:
            yield client
