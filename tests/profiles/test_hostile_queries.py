"""Hostile query strings on every profile route (AMIE, Civis, Elevate, Geobox, LaunchDarkly):
huge numbers, other scripts' digits, NULs, bad time zones, dates past 9999. Each answer is
the vendor's 4xx (or a 200 where the value is merely unusual), never a 5xx.

Routes come from the profiles' route tables, so a new profile route is covered too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import orjson
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY
from usagekit.server.app import create_app
from usagekit.server.profiles import profiles
from usagekit.server.settings import Settings
from usagekit.services.ingest import MAX_FAILURE_ROWS

HOSTILE = [
    "²",
    "\u0661\u0662",  # Arabic-Indic digits
    "\uff11\uff12",  # fullwidth digits
    str(2**63),
    str(2**64),
    "9" * 400,
    "-1",
    "a\x00b",
    "America",
    "a" * 300,
    "0001-01-01",
    "9999-12-31T23:59:59-14:00",
    "10000-01-01",
    "1e400",
]
# Query parameters each profile reads (by path prefix), besides its path parameters.
PARAMS = {
    "/amie/": ["FromTime", "ToTime"],
    "/civis/": ["org_id", "task", "start_date", "end_date"],
    "/api/umon/": ["metricType", "startDate", "endDate"],
    "/api/v1/": [
        "eid",
        "scale",
        "param",
        "from_date",
        "to_date",
        "days_before_now",
        "limit",
        "skip",
        "user_id",
        "search",
        "order_by",
    ],
    "/api/v2/usage": ["from", "to", "tz", "granularity", "aggregationType", "sdkName"],
}
_PATH_PARAM = re.compile(r"\{([^}]+)\}")


def profile_routes() -> Iterator[tuple[str, str, list[str]]]:
    for profile in profiles():
        for route in profile.router.routes:
            if not isinstance(route, APIRoute) or "GET" not in route.methods:
                continue
            for prefix, names in PARAMS.items():
                if route.path.startswith(prefix):
                    yield prefix, route.path, names


def elevate_token(client: TestClient) -> str:
    keys = client.get("/v1/keys", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()
    key_id = next(k["id"] for k in keys if ADMIN_KEY.startswith(k["prefix"]))
    reply = client.post("/exchange-auth-code", json={"clientId": key_id, "secret": ADMIN_KEY})
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["accessToken"]
    return token


@pytest.fixture
def lenient(settings: Settings) -> Iterator[TestClient]:
    """The app in process, answering a 500 rather than raising it into the test."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.slow
def test_profile_routes_answer_hostile_queries_without_a_5xx(lenient: TestClient) -> None:
    client = lenient
    token = elevate_token(client)
    headers = {"XA-API-KEY": ADMIN_KEY, "XA-SITE": "default"}
    routes = list(profile_routes())
    assert {prefix for prefix, _, _ in routes} == set(PARAMS)  # every profile is reached
    failures = []
    answered = 0
    for prefix, path, names in routes:
        auth = f"Bearer {token}" if prefix == "/api/umon/" else f"Bearer {ADMIN_KEY}"
        plain = _PATH_PARAM.sub("x", path)
        for value in HOSTILE:
            cases = [(plain, {name: value}) for name in names]
            for param in _PATH_PARAM.findall(path):
                cases.append((path.replace("{" + param + "}", _quote(value)), {}))
            for url, query in cases:
                reply = client.get(url, params=query, headers={**headers, "Authorization": auth})
                answered += 1
                if reply.status_code >= 500 or reply.status_code in (401, 403):
                    failures.append((url, query, reply.status_code, reply.text[:120]))
    assert failures == []
    assert answered > 1000


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/amie/usage/status?FromTime=²", "FromTime"),
        ("/amie/usage/summary?ToTime=10000-01-01", "ToTime"),
        (f"/civis/usage/llm/{2**63}", "stat_id"),
        ("/civis/usage/llm?start_date=a%00", "start_date"),
    ],
)
def test_profile_errors_keep_their_vendor_shape(client: TestClient, url: str, param: str) -> None:
    reply = client.get(url, headers={"XA-API-KEY": ADMIN_KEY, "XA-SITE": "default"})
    assert reply.status_code == 400, reply.text
    body = reply.json()
    text = body.get("error") if url.startswith("/amie") else body.get("errorDescription")
    assert isinstance(text, str)
    assert param in text


def amie_record(rid: str) -> dict[str, object]:
    return {
        "Username": "u1",
        "LocalProjectID": "proj",
        "LocalRecordID": rid,
        "Resource": "bridges2.psc.access-ci.org",
        "SubmitTime": "2026-11-02T09:55:00+00:00",
        "StartTime": "2026-11-02T10:00:00+00:00",
        "EndTime": "2026-11-02T11:00:00+00:00",
        "Charge": "12.50",
        "Attributes": {"NodeCount": 2, "Queue": "RM"},
    }


def _amie_bad(name: str) -> str:
    rec = amie_record(f"bad-{name}")
    if name == "nul-user":
        rec["Username"] = "u\x00"
    elif name == "nul-id":
        rec["LocalRecordID"] = "bad\x00"
    elif name == "nul-attr":
        rec["Attributes"] = {"NodeCount": 2, "Queue": "R\x00M"}
    elif name == "charge-huge":
        rec["Charge"] = "1" * 40 + ".5"
    text = orjson.dumps(rec).decode()
    if name == "int-past-64":
        return text.replace('"NodeCount":2', f'"NodeCount":2,"X":{2**64 + 1}')
    if name == "deep":
        return text.replace('"NodeCount":2', '"NodeCount":2,"X":' + '{"a":' * 300 + "1" + "}" * 300)
    return text


@pytest.mark.parametrize(
    "name", ["nul-user", "nul-id", "nul-attr", "charge-huge", "int-past-64", "deep"]
)
def test_amie_judges_each_pathological_record_alone(lenient: TestClient, name: str) -> None:
    """Each was a 500 or a silently rounded record on main (NUL on PostgreSQL)."""
    good = [orjson.dumps(amie_record(f"ok-{name}-{i}")).decode() for i in range(2)]
    body = f'{{"UsageType": "Compute", "Records": [{good[0]}, {_amie_bad(name)}, {good[1]}]}}'
    reply = lenient.post(
        "/amie/usage/",
        content=body,
        headers={"XA-API-KEY": ADMIN_KEY, "XA-SITE": "default"},
    )
    assert reply.status_code == 200, reply.text
    got = reply.json()
    assert got["LoadedRecordCount"] == 2
    assert len(got["ValidationFailedRecords"]) == 1


def test_an_amie_flood_of_invalid_records_keeps_a_bounded_number(lenient: TestClient) -> None:
    """Every invalid record is echoed with its error; at most MAX_FAILURE_ROWS are kept."""
    n = MAX_FAILURE_ROWS + 500
    body = orjson.dumps({"UsageType": "Compute", "Records": [{} for _ in range(n)]})
    reply = lenient.post(
        "/amie/usage/", content=body, headers={"XA-API-KEY": ADMIN_KEY, "XA-SITE": "default"}
    )
    assert reply.status_code == 200, reply.text
    assert len(reply.json()["ValidationFailedRecords"]) == n
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    kept, cursor = 0, None
    while True:
        params = {
            "limit": 1000,
            "channel": "amie-invalid",
            **({"cursor": cursor} if cursor else {}),
        }
        page = lenient.get("/v1/failures", params=params, headers=admin).json()
        kept += len(page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert kept == MAX_FAILURE_ROWS
