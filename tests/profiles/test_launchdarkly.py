"""LaunchDarkly: launchdarkly-api's AccountUsageBetaApi, unmodified, against `usagekit serve`.

Every one of the 23 methods is called (about seventy calls in one vendor process) and
every series point is compared with the plain-Python oracle over the events sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.live import Live, serve
from tests.profiles.ld_cases import INVALID, LISTS, Case, cases
from tests.profiles.ld_data import DAY, HOUR, columns, events, oracle
from tests.profiles.vendor import run_script, vendor_python

NOW = int(time.time() * 1000)
CLIENT = "launchdarkly-api==25.0.1"
# This client reads data export series as DataExportSeriesListRep (SeriesListRep's fields,
# plus optional dataThrough and delayed).
COMPAT_TYPES = {"get_service_connections_usage": "SeriesListRepFloat"}
VENDOR_TYPES = {**COMPAT_TYPES, "get_data_export_events_usage": "DataExportSeriesListRep"}


@pytest.fixture(scope="module")
def ld_python() -> Path:
    return vendor_python("launchdarkly", CLIENT)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, str, list[Any]]]:
    """A server with one tenant's ld.* events (resent in part, one voided) and a read key."""
    tmp = tmp_path_factory.mktemp("ld")
    sent = events(NOW, 1500, 7)
    with serve(str(tmp / "usagekit.db"), tmp) as server:
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
            admin.post("/v1/events", json=events(NOW, 200, 8))
        yield server, key, sent


def _start_end(case: Case, reply: dict[str, Any], after: int) -> tuple[int, int]:
    scale = 1000 if case.seconds else 1
    start = int(case.kwargs["var_from"]) * scale if "var_from" in case.kwargs else None
    end = int(case.kwargs["to"]) * scale if "to" in case.kwargs else after
    first = reply["series"][0]["time"]
    if start is None:
        start = first  # the default `from` starts the series
    return start, end


def _granularity(case: Case, start: int, after: int) -> str:
    if case.granularity is not None:
        return case.granularity
    age = after - start
    return "minute" if age <= 2 * HOUR else "hour" if age <= 2 * DAY else "day"


def check(case: Case, reply: dict[str, Any], sent: list[Any], after: int) -> None:
    start, end = _start_end(case, reply, after)
    times, expected = oracle(sent, case.event_type, case.value, case.filters,
                             [f for _, f in case.groups], start, end,
                             _granularity(case, start, after), case.kind, case.tz)  # fmt: skip
    got_times, got = columns(reply, lambda meta: tuple(meta.get(lb) for lb, _ in case.groups))
    assert got_times == times[: len(got_times)] and len(times) - len(got_times) <= 1, case.id
    expected = {g: v[: len(got_times)] for g, v in expected.items()}
    assert got == expected, case.id
    assert len(reply["metadata"]) == len(got), case.id


def test_every_method_against_the_oracle(
    loaded: tuple[Live, str, list[Any]], ld_python: Path
) -> None:
    live, key, sent = loaded
    calls = [{"id": c.id, "method": c.method, "args": c.args, "kwargs": c.kwargs}
             for c in cases(NOW)]  # fmt: skip
    calls += [{"id": i, "method": m, "args": a, "kwargs": kw} for i, m, a, kw in LISTS]
    asked = {"host": live.url, "key": key, "calls": calls}
    got = run_script(ld_python, "ld_calls.py", orjson.dumps(asked).decode())
    assert len({c["method"] for c in calls}) == 23
    verify(got, sent, int(time.time() * 1000), VENDOR_TYPES)


def verify(got: dict[str, Any], sent: list[Any], after: int, types: dict[str, str]) -> None:
    """Every case's reply against the oracle; got[id] = {"ok": body, "type": model name}."""
    nonzero = set()
    for case in cases(NOW):
        result = got[case.id]
        assert "ok" in result, (case.id, result)
        assert result["type"] == types.get(case.method, "SeriesListRep"), case.id
        assert result["ok"]["_links"]["self"]["href"].startswith("/api/v2/usage/")
        check(case, result["ok"], sent, after)
        if any(v for row in result["ok"]["series"] for k, v in row.items() if k != "time"):
            nonzero.add(case.method)
    assert len(nonzero) == 21, "every series method returned some usage"
    _check_lists(got, sent, after)


def _check_lists(got: dict[str, Any], sent: list[Any], after: int) -> None:
    def sdks(lo: int, sdk_type: str | None) -> list[str]:
        return sorted({e["data"]["sdkName"] for e in sent if e["type"] == "ld.context"
                       and e["data"]["primary"] and lo <= e["time"] < after
                       and sdk_type in (None, e["data"]["sdkType"])})  # fmt: skip

    assert got["sdks-default"]["type"] == "SdkListRep"
    week = got["sdks-default"]["ok"]["sdks"]
    assert week == sdks(NOW - 7 * DAY, None) and week
    assert got["sdks-client"]["ok"]["sdks"] == sdks(NOW - 7 * DAY, "client")
    assert got["sdks-range"]["ok"]["sdks"] == sdks(0, "server") == ["go", "node"]
    for source in ("client", "server"):
        reply = got[f"versions-{source}"]
        assert reply["type"] == "SdkVersionListRep"
        pairs = sorted({(e["data"]["sdk"], e["data"]["version"]) for e in sent
                        if e["type"] == "ld.stream" and e["data"]["source"] == source
                        and e["time"] >= NOW - 60 * DAY})  # fmt: skip
        assert [(v["sdk"], v["version"]) for v in reply["ok"]["sdkVersions"]] == pairs


def test_invalid_requests_and_keys(loaded: tuple[Live, str, list[Any]], ld_python: Path) -> None:
    live, key, _ = loaded
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


def test_subject_bound_key_sees_its_subject(loaded: tuple[Live, str, list[Any]]) -> None:
    live, _, sent = loaded
    with live.client() as admin:
        bound = admin.post("/v1/keys", json={"tenant": "ld", "role": "read",
                                             "subject": "s4"}).json()["key"]  # fmt: skip
    lo, hi = (NOW - 20 * DAY) // 1000, NOW // 1000
    with live.client(bound) as c:
        c.headers["Authorization"] = bound  # LaunchDarkly's bare header
        params = {"from": str(lo), "to": str(hi), "aggregationType": "incremental"}
        reply = c.get("/api/v2/usage/vega-ai", params=params).json()
    mine = [e for e in sent if e["subject"] == "s4"]
    _, want = oracle(mine, "ld.vega_ai", ("sum", "count"), {}, [], lo * 1000, hi * 1000, "day")
    assert [row["0"] for row in reply["series"]] == want[()] and any(want[()])


def test_compat_against_the_oracle(loaded: tuple[Live, str, list[Any]]) -> None:
    from usagekit.compat.launchdarkly import AccountUsageBetaApi, ApiClient, Configuration
    from usagekit.errors import AuthenticationError, PermissionDeniedError, ValidationError

    live, key, sent = loaded
    configuration = Configuration(host=live.url)
    configuration.api_key["ApiKey"] = key
    got: dict[str, Any] = {}
    with ApiClient(configuration) as api_client:
        api = AccountUsageBetaApi(api_client)
        calls = [(c.id, c.method, c.args, c.kwargs) for c in cases(NOW)] + LISTS
        for case_id, method, args, kwargs in calls:
            reply = getattr(api, method)(*args, **kwargs)
            got[case_id] = {"ok": reply.to_dict(), "type": type(reply).__name__}
        verify(got, sent, int(time.time() * 1000), COMPAT_TYPES)
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
