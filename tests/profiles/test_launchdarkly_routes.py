"""LaunchDarkly routes in-process on every backend (SQLite and PostgreSQL): all 23 methods
through compat.launchdarkly against the oracle, then the wire details (auth header forms,
error shapes, 429 with Retry-After, repeatable filters, unknown and repeated parameters)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY
from tests.profiles.ld_check import COMPAT_TYPES, call_all, verify
from tests.profiles.ld_data import DAY, events, oracle
from usagekit.compat.launchdarkly import AccountUsageBetaApi, ApiClient, Configuration
from usagekit.core.clock import FixedClock
from usagekit.server.app import create_app
from usagekit.server.settings import Settings

API = "/api/v2/usage"


class InProcess(httpx.BaseTransport):
    """httpx requests answered by the in-process app (its TestClient speaks another httpx)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        reply = self.client.request(
            request.method, str(request.url), headers=dict(request.headers), content=request.read()
        )
        return httpx.Response(reply.status_code, headers=dict(reply.headers), content=reply.content)


def test_every_method_on_each_backend(fixed_client: TestClient, clock: FixedClock) -> None:
    client = fixed_client
    now = clock.now_ms()
    sent = events(now, 1500, 21)
    assert client.post("/v1/events", json=sent).json()["accepted"] == len(sent)
    configuration = Configuration(host=str(client.base_url), api_key={"ApiKey": ADMIN_KEY})
    with ApiClient(configuration, transport=InProcess(client)) as api_client:
        api = AccountUsageBetaApi(api_client)
        got = call_all(api, now)
    verify(got, sent, now, now, COMPAT_TYPES)  # the server's clock stood still at `now`


def test_wire_details(client: TestClient) -> None:
    now = int(time.time() * 1000)
    sent = events(now, 300, 22)
    client.post("/v1/events", json=sent)
    lo, hi = str(now - 20 * DAY), str(now)

    def get(path: str, header: str = ADMIN_KEY, **params: Any) -> Any:
        reply = client.get(API + path, params=params, headers={"Authorization": header})
        return reply.status_code, reply.json(), reply.headers

    bare = get("/total-contexts", **{"from": lo, "to": hi})
    bearer = get("/total-contexts", f"Bearer {ADMIN_KEY}", **{"from": lo, "to": hi})
    assert bare[0] == bearer[0] == 200 and bare[1]["series"] == bearer[1]["series"]
    assert bare[1]["_links"]["self"]["href"] == f"{API}/total-contexts?from={lo}&to={hi}"
    for header, status, code in (("", 401, "unauthorized"), ("nope", 401, "unauthorized"),
                                 ("Basic abc", 401, "unauthorized")):  # fmt: skip
        reply = get("/vega-ai", header)
        assert (reply[0], reply[1]["code"]) == (status, code) and reply[1]["message"]
    ingest = client.post("/v1/keys", json={"role": "ingest"}).json()["key"]
    status, body, _ = get("/vega-ai", ingest)
    assert status == 403 and body["code"] == "forbidden" and "read usage" in body["message"]
    missing = get("/no-such-usage")
    assert missing[0] == 404 and missing[1]["code"] == "not_found"

    # repeatable filters: two projects are their union; environmentKey with one project
    both = get("/total-contexts", projectKey=["web", "mobile"], aggregationType="incremental",
               **{"from": lo, "to": hi})[1]  # fmt: skip
    alone = get("/total-contexts", aggregationType="incremental", **{"from": lo, "to": hi})[1]
    assert both["series"] == alone["series"] and any(r["0"] for r in both["series"])
    env = get("/clientside-mau", projectKey="web", environmentKey=["production", "staging"],
              aggregationType="incremental", **{"from": lo, "to": hi})  # fmt: skip
    _, want = oracle(sent, "ld.context", ("distinct", "contextKey"),
                     {"projectKey": {"web"}, "sdkType": {"client"}, "primary": {"true"}},
                     [], int(lo), int(hi), "day")  # fmt: skip
    assert env[0] == 200 and [r["0"] for r in env[1]["series"]] == want[()]

    for params, param in (
        ({"groupby": "sdkName"}, "groupby"),  # the legacy spelling, on a new endpoint
        ({"from": lo, "to": hi, "tz": "UTC"}, "tz"),  # no tz on this endpoint
        ({"granularity": ["daily", "monthly"]}, "granularity"),
        ({"projectKey": ""}, "projectKey"),
        ({"from": "-5"}, "from"),
    ):
        status, body, _ = get("/total-contexts", **params)
        assert status == 400 and body["code"] == "invalid_request", params
        assert body["message"].startswith(f"unknown parameter '{param}'") or body[
            "message"
        ].startswith(f"{param}:"), body
    too_old = get("/streams/client", **{"from": "0"})
    assert too_old[0] == 400 and too_old[1]["message"].startswith("from: ")


@pytest.mark.parametrize("header", [ADMIN_KEY, f"Bearer {ADMIN_KEY}"])
def test_rate_limited_with_retry_after(db_url: str, header: str) -> None:
    settings = Settings(db=db_url, bootstrap_key=ADMIN_KEY, key_cache_seconds=0,
                        writer="thread", rate_limit=1.0, rate_burst=1)  # fmt: skip
    with TestClient(create_app(settings)) as c:
        replies = [c.get(f"{API}/vega-ai", headers={"Authorization": header}) for _ in range(3)]
    limited = [r for r in replies if r.status_code == 429]
    assert limited and replies[0].status_code == 200
    body = limited[0].json()
    assert body["code"] == "rate_limited" and "rate limit" in body["message"]
    assert float(limited[0].headers["Retry-After"]) > 0
