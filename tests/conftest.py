"""Fixtures: one store fixture over every backend (real SQLite files, real PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from usagekit.core.clock import FixedClock
from usagekit.server.app import create_app
from usagekit.server.settings import Settings
from usagekit.store import Store
from usagekit.store.schema import metadata

PG_URL = os.environ.get("USAGEKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_KEY = "uk_test_admin_key_0123456789"
# In-process servers get their server secret here, not from a file in the working directory.
SERVER_SECRET = "usagekit-test-server-secret-0123456789abcdef"


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


BACKENDS = ["sqlite", "postgresql"]


@contextmanager
def new_schema(prefix: str = "uk") -> Iterator[str]:
    """A private, empty schema in the test database, dropped at the end (skip if no server;
    under CI, fail)."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A private schema for this session's in-process tests (emptied before each)."""
    with new_schema() as schema:
        yield schema


def pg_url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@contextmanager
def new_database(backend: str, tmp: Path) -> Iterator[str]:
    """A new, empty database of `backend` that nothing else uses: a file in `tmp`, or a
    PostgreSQL schema of its own (live servers keep theirs while other tests run)."""
    if backend == "sqlite":
        yield str(tmp / "usagekit.db")
        return
    with new_schema("uk_live") as schema:
        yield pg_url(schema)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]
)
def module_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database of each backend, shared by one module's tests (one live server
    per module and backend rather than one per test).

    The quick loop (`-m "not slow"`) runs these live servers on SQLite only: the
    in-process tests run every store path on both backends there, and the full suite
    runs the live servers on PostgreSQL too."""
    with new_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, empty database URL of each backend."""
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("db") / "usagekit.db")
    schema: str = request.getfixturevalue("pg_schema")
    store = Store.open(pg_url(schema))
    with store.engine.begin() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY")
    store.close()
    return pg_url(schema)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    yield opened
    opened.close()


@pytest.fixture(params=["thread"])
def settings(request: pytest.FixtureRequest, db_url: str) -> Settings:
    """In-process tests use the thread writer; the live-server tests run the process writer.

    Every in-process request comes from one address, so the failed-authentication
    limit is off here (tests/test_rate_limits.py turns it on); live servers keep it.
    """
    return Settings(
        db=db_url,
        bootstrap_key=ADMIN_KEY,
        key_cache_seconds=0,
        writer=request.param,
        secret=SERVER_SECRET,
        auth_failure_limit=0.0,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app in-process, with the admin key of tenant 'default' already sent."""
    with TestClient(create_app(settings)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield test_client


FIXED_NOW = 1_788_231_661_234  # 2026-09-01T03:01:01.234Z: the fixed clock's start


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing still at FIXED_NOW until the test moves it."""
    return FixedClock(FIXED_NOW)


@pytest.fixture
def fixed_client(settings: Settings, clock: FixedClock) -> Iterator[TestClient]:
    """`client`, with every "now" of the server (stamps, default windows) read from `clock`."""
    store = Store.open(settings.db, clock=clock)
    try:
        with TestClient(create_app(settings, store)) as test_client:
            test_client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            yield test_client
    finally:
        store.close()


def new_tenant_key(client: TestClient, name: str, role: str = "admin", **extra: str) -> str:
    """Create a tenant (if needed) and a key for it; returns the secret."""
    client.post("/v1/tenants", json={"name": name})
    reply = client.post("/v1/keys", json={"tenant": name, "role": role, **extra})
    assert reply.status_code == 201, reply.text
    secret: str = reply.json()["key"]
    return secret
