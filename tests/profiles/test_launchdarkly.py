"""LaunchDarkly: launchdarkly-api's AccountUsageBetaApi, unmodified, against `usagekit serve`.

Every one of the 23 methods is called (about seventy calls in one vendor process) and
every series point is compared with the plain-Python oracle over the events sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.live import Live, serve
from tests.profiles.ld_cases import INVALID, LISTS, cases
from tests.profiles.ld_check import COMPAT_TYPES, call_all, verify
from tests.profiles.ld_data import DAY, events, oracle
from tests.profiles.vendor import run_script, vendor_python

# This client reads data export series as DataExportSeriesListRep (SeriesListRep's fields,
# plus optional dataThrough and delayed).
VENDOR_TYPES = {**COMPAT_TYPES, "get_data_export_events_usage": "DataExportSeriesListRep"}


NOW = 1_795_000_000_000  # 2026-11-18T11:06:40Z: the servers here run frozen at this instant


@dataclass
class Loaded:
    live: Live
    key: str
    sent: list[Any]
    now: int  # the events are placed before this instant


@pytest.fixture(scope="module")
def ld_python() -> Path:
    return vendor_python("launchdarkly")


@pytest.fixture(scope="module")
def loaded(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """A server (each backend) with one tenant's ld.* events, resent in part, one voided."""
    tmp = tmp_path_factory.mktemp("ld")
    now = NOW
    sent = events(now, 1500, 7)
    with serve(module_db, tmp, env={"USAGEKIT_FIXED_NOW": str(now)}) as server:
        with server.client() as admin:
            admin.post("/v1/tenants", json={"name": "ld"})
            owner = admin.post("/v1/keys", json={"tenant": "ld", "role": "admin"}).json()["key"]
        with server.client(owner) as c:
            assert c.post("/v1/events", json=sent).json()["accepted"] == len(sent)
            assert c.post("/v1/events", json=sent[:50]).json()["duplicates"] == 50
            voided = sent.pop(3)
            c.post("/v1/events/void", json={"source": "ld-test", "ids": [voided["id"]]})
            key = c.post("/v1/keys", json={"role": "read", "name": "ld"}).json()["key"]
        with server.client() as admin:  # another tenant's usage must not show
            admin.post("/v1/events", json=events(now, 200, 8))
        yield Loaded(server, key, sent, now)


@pytest.mark.slow
def test_every_method_against_the_oracle(loaded: Loaded, ld_python: Path) -> None:
    live, key, sent, now = loaded.live, loaded.key, loaded.sent, loaded.now
    calls = [{"id": c.id, "method": c.method, "args": c.args, "kwargs": c.kwargs}
             for c in cases(now)]  # fmt: skip
    calls += [{"id": i, "method": m, "args": a, "kwargs": kw} for i, m, a, kw in LISTS]
    asked = {"host": live.url, "key": key, "calls": calls}
    got = run_script(ld_python, "ld_calls.py", orjson.dumps(asked).decode())
    assert len({c["method"] for c in calls}) == 23
    verify(got, sent, now, now, VENDOR_TYPES)


@pytest.mark.slow
def test_invalid_requests_and_keys(loaded: Loaded, ld_python: Path) -> None:
    live, key = loaded.live, loaded.key
    calls = [{"id": i, "method": m, "args": a, "kwargs": kw} for i, m, a, kw, _ in INVALID]
    asked = {"host": live.url, "key": key, "calls": calls}
    got = run_script(ld_python, "ld_calls.py", orjson.dumps(asked).decode())
    for case_id, _, _, _, param in INVALID:
        status, body, _ = got[case_id]["error"]
        reply = orjson.loads(body)
        assert status == 400 and reply["code"] == "invalid_request", case_id
        assert reply["message"].startswith(param), (case_id, reply["message"])
    with live.client() as admin:
        ingest = admin.post("/v1/keys", json={"tenant": "ld", "role": "ingest"}).json()["key"]
    one = [{"id": "x", "method": "get_vega_ai_usage", "args": [], "kwargs": {}}]
    for secret, status, code in (("uk_wrong_key_0123456789", 401, "unauthorized"),
                                 (ingest, 403, "forbidden")):  # fmt: skip
        asked = {"host": live.url, "key": secret, "calls": one}
        reply = run_script(ld_python, "ld_calls.py", orjson.dumps(asked).decode())["x"]["error"]
        assert reply[0] == status and orjson.loads(reply[1])["code"] == code


def test_subject_bound_key_sees_its_subject(loaded: Loaded) -> None:
    live, sent, now = loaded.live, loaded.sent, loaded.now
    with live.client() as admin:
        bound = admin.post("/v1/keys", json={"tenant": "ld", "role": "read",
                                             "subject": "s4"}).json()["key"]  # fmt: skip
    lo, hi = (now - 20 * DAY) // 1000, now // 1000
    with live.client(bound) as c:
        c.headers["Authorization"] = bound  # LaunchDarkly's bare header
        params = {"from": str(lo), "to": str(hi), "aggregationType": "incremental"}
        reply = c.get("/api/v2/usage/vega-ai", params=params).json()
    mine = [e for e in sent if e["subject"] == "s4"]
    _, want = oracle(mine, "ld.vega_ai", ("sum", "count"), {}, [], lo * 1000, hi * 1000, "day")
    assert [row["0"] for row in reply["series"]] == want[()] and any(want[()])


def test_compat_against_the_oracle(loaded: Loaded) -> None:
    from usagekit.compat.launchdarkly import AccountUsageBetaApi, ApiClient, Configuration
    from usagekit.errors import AuthenticationError, PermissionDeniedError, ValidationError

    live, key, sent, now = loaded.live, loaded.key, loaded.sent, loaded.now
    configuration = Configuration(host=live.url)
    configuration.api_key["ApiKey"] = key
    with ApiClient(configuration) as api_client:
        api = AccountUsageBetaApi(api_client)
        got = call_all(api, now)
        verify(got, sent, now, now, COMPAT_TYPES)
        for case_id, method, args, kwargs, param in INVALID:
            with pytest.raises(ValidationError, match=f"^400 {param}") as refused:
                getattr(api, method)(*args, **kwargs)
            assert refused.value.code == "invalid_request", case_id
        # beyond the vendor client: lists for repeatable filters, datetimes for from/to
        both = api.get_vega_ai_usage(project_key=["web", "mobile"], var_from=datetime(2000, 1, 1))
        assert both.series == api.get_vega_ai_usage(var_from="946684800").series
    wrong = Configuration(host=live.url, api_key={"ApiKey": "uk_wrong_key_0123456789"})
    with ApiClient(wrong) as api_client, pytest.raises(AuthenticationError, match="unknown"):
        AccountUsageBetaApi(api_client).get_vega_ai_usage()
    with live.client() as admin:
        ingest = admin.post("/v1/keys", json={"tenant": "ld", "role": "ingest"}).json()["key"]
    denied = Configuration(host=live.url, api_key={"ApiKey": ingest})
    with ApiClient(denied) as api_client, pytest.raises(PermissionDeniedError):
        AccountUsageBetaApi(api_client).get_mau_usage()
