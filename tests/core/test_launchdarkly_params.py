"""LaunchDarkly request resolution (pure): defaults, units, automatic granularity, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from usagekit.core.errors import ParamError
from usagekit.core.presets import preset
from usagekit.core.windows import Granularity
from usagekit.profiles.launchdarkly.endpoints import BY_METHOD, ENDPOINTS
from usagekit.profiles.launchdarkly.params import resolve

NOW = int(datetime(2026, 11, 17, 15, 30, tzinfo=UTC).timestamp() * 1000)
HOUR = 3_600_000
DAY = 24 * HOUR


def test_the_table_has_the_seed_methods_and_presets() -> None:
    assert len(ENDPOINTS) == len(BY_METHOD) == 23
    assert len({e.path for e in ENDPOINTS}) == 23
    for ep in ENDPOINTS:
        meter = preset(ep.meter)
        dims = {*ep.filters.values(), *ep.group_by.values(), *ep.fixed}
        dims |= {d for d, _ in ep.path_filters.values()} | {d for _, d in ep.series_by}
        assert dims <= set(meter.dimensions), ep.method


def test_defaults_and_units() -> None:
    month = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp() * 1000)
    plan = resolve(BY_METHOD["get_contexts_total_usage"], {}, [], NOW)
    assert (plan.start, plan.end, plan.aggregation) == (month, NOW, "month_to_date")
    assert plan.granularity is Granularity.DAY and plan.labels == ("contextKind",)
    legacy = resolve(BY_METHOD["get_mau_usage"], {}, [], NOW)
    assert legacy.start == NOW - 30 * DAY and legacy.aggregation == "rolling_30d"
    assert legacy.filters == {"primary": ["true"], "contextKind": ["user"]}
    assert resolve(BY_METHOD["get_mau_sdks_by_type"], {}, [], NOW).start == NOW - 7 * DAY
    seconds = resolve(BY_METHOD["get_vega_ai_usage"], {}, [("from", "1700000000")], NOW)
    assert seconds.start == 1_700_000_000_000
    millis = resolve(BY_METHOD["get_mau_total_usage"], {}, [("from", str(NOW - DAY))], NOW)
    assert millis.start == NOW - DAY


@pytest.mark.parametrize(
    ("back", "granularity"),
    [(2 * HOUR, Granularity.MINUTE), (2 * HOUR + 1, Granularity.HOUR),
     (2 * DAY, Granularity.HOUR), (2 * DAY + 1, Granularity.DAY)],
)  # fmt: skip
def test_automatic_granularity(back: int, granularity: Granularity) -> None:
    ep = BY_METHOD["get_stream_usage"]
    plan = resolve(ep, {"source": "client"}, [("from", str(NOW - back))], NOW)
    assert plan.granularity is granularity and plan.filters == {"source": ["client"]}


def test_groupings_and_filters() -> None:
    ep = BY_METHOD["get_contexts_clientside_usage"]
    query = [("groupBy", "sdkName"), ("groupBy", "sdkName"), ("groupBy", "projectId"),
             ("projectKey", "a"), ("projectKey", "b"), ("anonymous", "true")]  # fmt: skip
    plan = resolve(ep, {}, query, NOW)
    assert plan.labels == ("contextKind", "sdkName", "projectId")
    assert plan.group_by == ("contextKind", "sdkName", "projectKey")
    assert plan.filters == {"sdkType": ["client"], "projectKey": ["a", "b"], "anonymous": ["true"]}


@pytest.mark.parametrize(
    ("method", "path", "query", "param"),
    [("get_vega_ai_usage", {}, [("groupBy", "projectId")], "groupBy"),
     ("get_vega_ai_usage", {}, [("from", "1"), ("from", "2")], "from"),
     ("get_vega_ai_usage", {}, [("to", "")], "to"),
     ("get_stream_usage", {"source": "client"}, [("from", str(NOW + DAY))], "from"),
     ("get_mau_total_usage", {}, [("environmentKey", "e"), ("projectKey", "a"),
                                  ("projectKey", "b")], "environmentKey"),
     ("get_stream_usage_sdkversion", {"source": "client"}, [("from", "1")], "from"),
     ("get_evaluations_usage", {"projectKey": "p", "environmentKey": "e", "featureFlagKey": "f"},
      [("from", "99999999999999999")], "from")],
)  # fmt: skip
def test_refusals_name_the_parameter(
    method: str, path: dict[str, str], query: list[tuple[str, str]], param: str
) -> None:
    with pytest.raises(ParamError) as refused:
        resolve(BY_METHOD[method], path, query, NOW)
    assert refused.value.param == param and param in str(refused.value)
