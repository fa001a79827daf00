"""Checks of LaunchDarkly replies against the oracle, shared by the wire and in-process tests."""

from __future__ import annotations

from typing import Any

from tests.profiles.ld_cases import LISTS, Case, cases
from tests.profiles.ld_data import DAY, HOUR, columns, oracle

COMPAT_TYPES = {"get_service_connections_usage": "SeriesListRepFloat"}


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


def verify(
    got: dict[str, Any], sent: list[Any], now: int, after: int, types: dict[str, str]
) -> None:
    """Every case's reply against the oracle; got[id] = {"ok": body, "type": model name}."""
    nonzero = set()
    for case in cases(now):
        result = got[case.id]
        assert "ok" in result, (case.id, result)
        assert result["type"] == types.get(case.method, "SeriesListRep"), case.id
        assert result["ok"]["_links"]["self"]["href"].startswith("/api/v2/usage/")
        check(case, result["ok"], sent, after)
        if any(v for row in result["ok"]["series"] for k, v in row.items() if k != "time"):
            nonzero.add(case.method)
    assert len(nonzero) == 21, "every series method returned some usage"
    _check_lists(got, sent, now, after)


def _check_lists(got: dict[str, Any], sent: list[Any], now: int, after: int) -> None:
    def sdks(lo: int, sdk_type: str | None) -> list[str]:
        return sorted({e["data"]["sdkName"] for e in sent if e["type"] == "ld.context"
                       and e["data"]["primary"] and lo <= e["time"] < after
                       and sdk_type in (None, e["data"]["sdkType"])})  # fmt: skip

    assert got["sdks-default"]["type"] == "SdkListRep"
    week = got["sdks-default"]["ok"]["sdks"]
    assert week == sdks(now - 7 * DAY, None) and week
    assert got["sdks-client"]["ok"]["sdks"] == sdks(now - 7 * DAY, "client")
    assert got["sdks-range"]["ok"]["sdks"] == sdks(0, "server") == ["go", "node"]
    for source in ("client", "server"):
        reply = got[f"versions-{source}"]
        assert reply["type"] == "SdkVersionListRep"
        pairs = sorted({(e["data"]["sdk"], e["data"]["version"]) for e in sent
                        if e["type"] == "ld.stream" and e["data"]["source"] == source
                        and e["time"] >= now - 60 * DAY})  # fmt: skip
        assert [(v["sdk"], v["version"]) for v in reply["ok"]["sdkVersions"]] == pairs


def call_all(api: Any, now: int) -> dict[str, Any]:
    """Every case and list through an AccountUsageBetaApi, in the shape verify() reads."""
    got: dict[str, Any] = {}
    calls = [(c.id, c.method, c.args, c.kwargs) for c in cases(now)] + LISTS
    for case_id, method, args, kwargs in calls:
        reply = getattr(api, method)(*args, **kwargs)
        got[case_id] = {"ok": reply.to_dict(), "type": type(reply).__name__}
    return got
