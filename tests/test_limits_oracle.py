"""Every limit status equals a plain-Python loop over the same events (property-based).

Random events with duplicates, conflicts and voids (test_query_oracle's scenarios),
random limits (every period kind, zones with DST and with 30- and 45-minute offsets,
per subject or tenant-wide, filtered or not) and random instants; the period comes
from a zoneinfo scan of local dates, the usage from tests.oracle, and every field of
the status from fractions.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests import oracle
from tests.core.test_limit_periods import expected as expected_period
from tests.test_query_oracle import DAY, examples, instants, load, scenarios
from usagekit.core.limit_periods import PeriodKind

EXAMPLES = int(os.environ.get("USAGEKIT_HYPOTHESIS_EXAMPLES", "40"))
FEW = 4
ZONES = ["UTC", "Asia/Kathmandu", "America/St_Johns", "America/New_York", "Europe/London",
         "Australia/Lord_Howe"]  # fmt: skip
SUBJECTS = ["alice", "bob", "carol", "zed"]
EXACT = ["sum", "count", "unique_count", "min", "max", "latest"]

limit_values = st.one_of(
    st.integers(0, 300),
    st.integers(0, 20_000),
    st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False).map(str),
    st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False).map(float),
)


@st.composite
def limit_specs(draw: st.DrawFn, n: int) -> dict[str, Any]:
    thresholds = sorted(set(draw(st.lists(st.sampled_from([10, 50, 80, 100, 150, 33.5, 1000]),
                                          min_size=1, max_size=4))))  # fmt: skip
    body: dict[str, Any] = {
        "slug": f"l{n}",
        "meter": "m",
        "period": draw(st.sampled_from([k.value for k in PeriodKind])),
        "tz": draw(st.sampled_from(ZONES)),
        "limit": draw(limit_values),
        "scope": draw(st.sampled_from(["subject", "subject", "tenant"])),
    }
    if draw(st.booleans()):
        body["thresholds"] = thresholds
    filters = draw(
        st.dictionaries(
            st.sampled_from(["project", "region"]),
            st.lists(st.sampled_from(["p1", "p2", "eu", "us"]), min_size=1, max_size=2,
                     unique=True),
            max_size=1,
        )
    )  # fmt: skip
    if filters:
        body["filter"] = filters
    return body


@st.composite
def exact_meter_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """test_query_oracle's scenarios with a meter of an aggregation limits compare exactly."""
    sc: dict[str, Any] = draw(scenarios())
    sc["meter"]["aggregation"] = agg = draw(st.sampled_from(EXACT))
    if agg == "count":
        sc["meter"].pop("value_property", None)
    elif agg == "unique_count":
        if sc["meter"].get("value_property") not in (None, "project"):
            sc["meter"]["value_property"] = "project"
    else:
        sc["meter"]["value_property"] = "v"
    return sc


@st.composite
def limit_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    sc: dict[str, Any] = draw(exact_meter_scenarios())
    times = [oracle.ms_of(e["time"]) for e in sc["events"]]
    lo, hi = min(times) - 3 * DAY, max(times) + 3 * DAY
    sc["limits"] = [draw(limit_specs(n)) for n in range(draw(st.integers(1, 3)))]
    sc["at"] = draw(st.lists(instants(lo, hi), min_size=1, max_size=3))
    return sc


def exact(value: Any) -> Fraction:
    """A number of a reply as the exact value it writes."""
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def want_status(body: dict[str, Any], sc: dict[str, Any], live: list[dict[str, Any]],
                subject: str | None, at: int) -> dict[str, Any]:  # fmt: skip
    """The status by definition: usage over the period by a loop, the rest by fractions."""
    tz = ZoneInfo(body["tz"])
    start, end = expected_period(PeriodKind(body["period"]), tz, at)
    found = oracle.aggregate(sc["meter"], live, start, end, {}, body.get("filter", {}),
                             None if subject is None else [subject])  # fmt: skip
    usage = Fraction(found or 0)
    cap = Fraction(Decimal(str(body["limit"])))
    percents = [Fraction(Decimal(str(t))) for t in body.get("thresholds", [100])]
    return {
        "usage": usage,
        "limit": cap,
        "remaining": max(cap - usage, Fraction(0)),
        "has_access": usage < cap,
        "percent": None if cap == 0 else Fraction(round(usage * 100 / cap * 10**9), 10**9),
        "period_start": start,
        "period_end": end,
        "thresholds_reached": [t for t in percents if usage * 100 >= cap * t],
        "subject": subject,
        "scope": body["scope"],
        "slug": body["slug"],
    }


def decoded(reply: Any) -> Any:
    """A reply's JSON with every fraction exact (a float keeps only about 16 digits)."""
    return json.loads(reply.text, parse_float=Decimal)


def got_status(reply: dict[str, Any]) -> dict[str, Any]:
    return {
        **reply,
        **{k: exact(reply[k]) for k in ("usage", "limit", "remaining")},
        "percent": None if reply["percent"] is None else exact(reply["percent"]),
        "period_start": oracle.instant(reply["period_start"]),
        "period_end": oracle.instant(reply["period_end"]),
        "thresholds_reached": [exact(t) for t in reply["thresholds_reached"]],
    }


def matches_plain_python(client: TestClient, sc: dict[str, Any]) -> None:
    headers, live = load(client, sc)
    for body in sc["limits"]:
        made = client.post("/v1/limits", json=body, headers=headers)
        assert made.status_code == 201, made.text
    for at in sc["at"]:
        per_subject: dict[str, list[dict[str, Any]]] = {}
        for body in sc["limits"]:
            whose = [None] if body["scope"] == "tenant" else SUBJECTS
            for subject in whose:
                params: dict[str, Any] = {"at": at}
                if subject is not None:
                    params["subject"] = subject
                reply = client.get(f"/v1/limits/{body['slug']}/status", params=params,
                                   headers=headers)  # fmt: skip
                assert reply.status_code == 200, reply.text
                want = want_status(body, sc, live, subject, at)
                assert got_status(decoded(reply)) == want, (body, subject, at)
                for s in SUBJECTS if subject is None else [subject]:
                    per_subject.setdefault(s, []).append(decoded(reply))
        for subject in SUBJECTS:
            every = client.get(f"/v1/subjects/{subject}/limits", params={"at": at},
                               headers=headers)  # fmt: skip
            assert every.status_code == 200, every.text
            order = {"subject": 0, "tenant": 1}
            want_all = sorted(per_subject[subject], key=lambda s: (order[s["scope"]], s["slug"]))
            assert decoded(every) == want_all


@examples(FEW)
@given(sc=limit_scenarios())
def test_limit_status_matches_plain_python(client: TestClient, sc: dict[str, Any]) -> None:
    matches_plain_python(client, sc)


@pytest.mark.slow
@examples(EXAMPLES)
@given(sc=limit_scenarios())
def test_limit_status_matches_plain_python_at_length(
    client: TestClient, sc: dict[str, Any]
) -> None:
    matches_plain_python(client, sc)
