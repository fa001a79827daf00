"""schemathesis over /openapi.json: every operation, with the admin key, never a 5xx,
and each answer as the document describes it (status, content type, body schema).

The app runs in process (ASGI) on a SQLite file of its own, and again on a PostgreSQL
schema of its own. Examples are bounded (per operation, derandomized) so the whole run
stays under a minute.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_KEY, PG_URL, pg_url
from usagekit.server.app import create_app
from usagekit.server.settings import Settings

EXAMPLES = 100
PG_EXAMPLES = 40  # PostgreSQL: fewer, for time; what it adds is NUL and 64-bit checks in SQL
_DIR = tempfile.mkdtemp(prefix="usagekit-schemathesis-")
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)


def app_on(db: str) -> Any:
    return create_app(
        Settings(db=db, bootstrap_key=ADMIN_KEY, key_cache_seconds=0, writer="thread")
    )


def pg_db() -> str | None:
    """A schema of its own in the test PostgreSQL (dropped at exit), or None without one."""
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=2) as conn:
            name = f"uk_st_{uuid.uuid4().hex[:10]}"
            conn.execute(f"CREATE SCHEMA {name}")
    except psycopg.Error:
        return None

    def drop() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")

    atexit.register(drop)
    return pg_url(name)


schemathesis.serializer.alias("application/x-ndjson", "text/plain")  # NDJSON bodies are text
APP = app_on(f"{_DIR}/api.db")
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
PG = pg_db()
pg_schema = schemathesis.openapi.from_asgi("/openapi.json", app_on(PG or f"{_DIR}/pg.db"))
# Negative examples are still generated and sent; negative_data_rejection is left out
# because a query string cannot tell a boolean `true` from the string "true".
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,
]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case: Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_KEY}"}, checks=CHECKS)


@pg_schema.parametrize()
@settings(
    max_examples=PG_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented_on_postgresql(case: Case) -> None:
    if PG is None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_KEY}"}, checks=CHECKS)


def test_document_names_usagekit_errors_not_fastapis() -> None:
    """Every /v1 operation documents 400, 401, 403, 429 and 503 with the error shape; no 422."""
    spec = schema.raw_schema
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    seen = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert "422" not in codes, (method, path)
            if path.startswith("/v1/"):
                seen += 1
                assert {"400", "401", "403", "429", "503"} <= codes, (method, path)
                ref = op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error"
            if "{" in path:
                assert "404" in codes, (method, path)
    assert seen >= 20
