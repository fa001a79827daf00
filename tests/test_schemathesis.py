"""schemathesis over /openapi.json: every operation, with the admin key, never a 5xx,
and each answer as the document describes it (status, content type, body schema).

The app runs in process (ASGI) on a SQLite file of its own. Examples are bounded
(EXAMPLES per operation, derandomized) so the whole run stays well under a minute.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile

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

from tests.conftest import ADMIN_KEY
from usagekit.server.app import create_app
from usagekit.server.settings import Settings

EXAMPLES = 100
_DIR = tempfile.mkdtemp(prefix="usagekit-schemathesis-")
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
APP = create_app(
    Settings(db=f"{_DIR}/api.db", bootstrap_key=ADMIN_KEY, key_cache_seconds=0, writer="thread")
)
schemathesis.serializer.alias("application/x-ndjson", "text/plain")  # NDJSON bodies are text
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
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
