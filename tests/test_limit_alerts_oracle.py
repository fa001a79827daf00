"""Alerts and kept status equal a plain-Python replay of the same commits (property-based).

Random limits are made first; then events arrive in random batches (with repeats)
and voids, each commit at its own clock time. The replay keeps, per limit and key,
the thresholds crossed, and after each commit recounts every key the commit moved
with tests.oracle's loop over the live events: crossed and cleared alerts are the
differences, in commit order. Calendar periods hold the event's time; a rolling
period is the window ending on the commit's day, whose crossed thresholds carry
over from the subject's previous window.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests import oracle
from tests.conftest import new_tenant_key
from tests.core.test_limit_periods import expected as expected_period
from tests.test_limits_oracle import (
    SUBJECTS,
    decoded,
    exact,
    exact_meter_scenarios,
    got_status,
    limit_specs,
    want_status,
)
from tests.test_query_oracle import DAY, examples, instants
from usagekit.core.clock import FixedClock
from usagekit.core.limit_periods import PeriodKind

EXAMPLES = int(os.environ.get("USAGEKIT_HYPOTHESIS_EXAMPLES", "40"))
FEW = 5
ROLLING = {"rolling_7d", "rolling_30d"}
counter = iter(range(10**9))


@st.composite
def commit_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    sc: dict[str, Any] = draw(exact_meter_scenarios())
    events = sc["events"] + sc["resend"]
    times = [oracle.ms_of(e["time"]) for e in events]
    lo, hi = min(times) - DAY, max(times) + 3 * DAY
    order = draw(st.permutations(range(len(events))))
    cuts = sorted(draw(st.lists(st.integers(1, len(events)), max_size=4, unique=True)))
    steps: list[dict[str, Any]] = []
    start = 0
    for cut in [*cuts, len(events)]:
        if cut > start:
            steps.append({"send": [events[i] for i in order[start:cut]]})
            start = cut
        if draw(st.booleans()):
            steps.append({"void": draw(st.lists(st.sampled_from(events), max_size=4))})
    for step in steps:
        step["at"] = draw(instants(lo, hi))
    sc["steps"] = sorted(steps, key=lambda s: s["at"]) if draw(st.booleans()) else steps
    sc["limits"] = [draw(limit_specs(n)) for n in range(draw(st.integers(1, 3)))]
    return sc


class Replay:
    """What the alerts must be: crossed thresholds per key, recounted after each commit."""

    def __init__(self, sc: dict[str, Any]) -> None:
        self.sc = sc
        self.sent: list[dict[str, Any]] = []
        self.voided: set[tuple[str, str]] = set()
        self.crossed: dict[tuple[str, str | None, int], frozenset[Fraction]] = {}
        self.window: dict[tuple[str, str | None], tuple[int, frozenset[Fraction]]] = {}
        self.alerts: list[tuple[Any, ...]] = []

    def live(self) -> list[dict[str, Any]]:
        return oracle.live_events(self.sent, self.voided)

    def commit(self, step: dict[str, Any]) -> None:
        now = step["at"]
        if "send" in step:
            known = {(e["source"], e["id"]) for e in self.sent}
            moved = []
            for e in step["send"]:
                if (e["source"], e["id"]) not in known:
                    known.add((e["source"], e["id"]))
                    moved.append(e)
            self.sent += step["send"]
        else:
            live = {(e["source"], e["id"]): e for e in self.live()}
            moved = []
            for e in step["void"]:
                key = (e["source"], e["id"])
                if key in live and key not in self.voided:
                    self.voided.add(key)
                    moved.append(live[key])
        for body in self.sc["limits"]:
            self._limit(body, moved, now, voided="void" in step)

    def _limit(self, body: dict[str, Any], moved: list[dict[str, Any]], now: int,
               voided: bool) -> None:  # fmt: skip
        meter = self.sc["meter"]
        tz = ZoneInfo(body["tz"])
        rolling = body["period"] in ROLLING
        window = expected_period(PeriodKind(body["period"]), tz, now)
        keys: set[tuple[str, int, int]] = set()
        for e in moved:
            t = oracle.ms_of(e["time"])
            if e["type"] != meter["event_type"] or not _passes(meter, body, e):
                continue
            start, end = window if rolling else expected_period(PeriodKind(body["period"]), tz, t)
            if start <= t < end:
                who = e["subject"] if body["scope"] == "subject" else ""
                keys.add((who, start, end))
        for who, start, _end in sorted(keys):
            subject = who or None
            if rolling:
                begun, before = self.window.get((body["slug"], subject), (None, frozenset()))
                have = begun == start
            else:
                have = (body["slug"], subject, start) in self.crossed
                before = self.crossed.get((body["slug"], subject, start), frozenset())
            if voided and not have and not before:
                continue
            status = want_status(body, self.sc, self.live(), subject, now if rolling else start)
            after = frozenset(status["thresholds_reached"])
            usage = status["usage"]
            for t in sorted(before - after, reverse=True):
                self.alerts.append(("limit.threshold_cleared", body["slug"], subject, t, usage,
                                    start))  # fmt: skip
            for t in sorted(after - before):
                self.alerts.append(("limit.threshold_crossed", body["slug"], subject, t, usage,
                                    start))  # fmt: skip
            if rolling:
                self.window[(body["slug"], subject)] = (start, after)
            else:
                self.crossed[(body["slug"], subject, start)] = after


def _passes(meter: dict[str, Any], body: dict[str, Any], e: dict[str, Any]) -> bool:
    dims = meter.get("dimensions", {})
    for name, allowed in body.get("filter", {}).items():
        if oracle.label(oracle.dig(e.get("data", {}), dims[name])) not in allowed:
            return False
    return True


def every_alert(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 1000}
    while True:
        reply = client.get("/v1/alerts", params=params, headers=headers)
        assert reply.status_code == 200, reply.text
        page = decoded(reply)
        out += page["data"]
        if not page["next_cursor"]:
            return out[::-1]
        params["cursor"] = page["next_cursor"]


def replays_exactly(client: TestClient, clock: FixedClock, sc: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {new_tenant_key(client, f'a{next(counter)}')}"}
    made = client.post("/v1/meters", json={**sc["meter"], "slug": "m"}, headers=headers)
    assert made.status_code == 201, made.text
    for body in sc["limits"]:
        made = client.post("/v1/limits", json=body, headers=headers)
        assert made.status_code == 201, made.text
    replay = Replay(sc)
    for step in sc["steps"]:
        clock.at_ms = step["at"]
        if "send" in step:
            reply = client.post("/v1/events", json=step["send"], headers=headers)
            assert reply.status_code == 202, reply.text
        else:
            for source in ("a", "b"):
                ids = [e["id"] for e in step["void"] if e["source"] == source]
                if ids:
                    reply = client.post("/v1/events/void", json={"ids": ids, "source": source},
                                        headers=headers)  # fmt: skip
                    assert reply.status_code == 200, reply.text
        replay.commit(step)
    got = [
        (a["type"], a["limit"], a["subject"], exact(a["threshold"]), exact(a["usage"]),
         oracle.instant(a["period_start"]))
        for a in every_alert(client, headers)
    ]  # fmt: skip
    assert got == replay.alerts
    # The status the writer kept equals the loop's, at the last commit's time.
    now = clock.at_ms
    for body in sc["limits"]:
        for subject in [None] if body["scope"] == "tenant" else SUBJECTS:
            params: dict[str, Any] = {"at": now}
            if subject is not None:
                params["subject"] = subject
            reply = client.get(f"/v1/limits/{body['slug']}/status", params=params,
                               headers=headers)  # fmt: skip
            assert reply.status_code == 200, reply.text
            want = want_status(body, sc, replay.live(), subject, now)
            assert got_status(decoded(reply)) == want, (body, subject)


@examples(FEW)
@given(sc=commit_scenarios())
def test_alerts_replay_commits(fixed_client: TestClient, clock: FixedClock,
                               sc: dict[str, Any]) -> None:  # fmt: skip
    replays_exactly(fixed_client, clock, sc)


@pytest.mark.slow
@examples(EXAMPLES)
@given(sc=commit_scenarios())
def test_alerts_replay_commits_at_length(fixed_client: TestClient, clock: FixedClock,
                                         sc: dict[str, Any]) -> None:  # fmt: skip
    replays_exactly(fixed_client, clock, sc)
