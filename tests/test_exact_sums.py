"""Sums stay exact at any size, on both backends, before and after `rebuild`.

On main a sum past 2**63 units turned SQLite's rollup into a float (later
additions vanished, rebuild aborted) and made PostgreSQL refuse the commit.
Every expected figure here is a plain-Python Decimal sum of the values sent.
"""

from __future__ import annotations

import json
import random
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from tests.conftest import BACKENDS, new_database
from usagekit.core.numbers import (
    LIMB,
    NANO,
    NotANumber,
    join_sum,
    split_sum,
    to_nanos,
    to_number,
)
from usagekit.store import Store, migrate
from usagekit.store.engine import make_engine

DAY_MS = 86_400_000
T0 = 1_700_006_400_000  # a UTC midnight
BIG = 2**63 - 1  # the largest value one event may carry


def exact(reply: Any) -> Any:
    """The reply with every number as an exact Fraction (Decimal sums round at 28 digits)."""
    assert reply.status_code == 200, reply.text
    return json.loads(reply.text, parse_float=Fraction, parse_int=Fraction)


def values() -> list[str]:
    rng = random.Random(13)
    out = [str(BIG)] * 5 + [f"{BIG}.999999999", "0.000000001", f"-{BIG}", "-0.5"]
    out += [str(rng.randrange(-(2**63) + 1, 2**63)) for _ in range(40)]
    out += [f"{rng.randrange(2**62)}.{rng.randrange(10**9):09d}" for _ in range(40)]
    out += [str(BIG)] * 30
    rng.shuffle(out)
    return out


def send(client: TestClient, sent: list[str], ids: str, days: int) -> None:
    for start in range(0, len(sent), 7):  # many small bodies: the sums add up in SQL
        body = [
            {
                "id": f"{ids}-{i}",
                "type": "big",
                "subject": f"s{i % 3}",
                "time": T0 + (i % days) * DAY_MS + i * 1000,
                "data": {"v": v},
            }
            for i, v in enumerate(sent[start : start + 7], start=start)
        ]
        reply = client.post("/v1/events", json=body)
        assert reply.status_code == 202, reply.text
        assert reply.json()["accepted"] == len(body)


def test_sums_past_64_bits_stay_exact(client: TestClient, store: Store) -> None:
    reply = client.post(
        "/v1/meters",
        json={"slug": "big", "event_type": "big", "aggregation": "sum", "value_property": "v"},
    )
    assert reply.status_code == 201, reply.text
    sent = values()
    days = 3
    send(client, sent, "a", days)
    expected = sum(Fraction(v) for v in sent)
    assert abs(expected) > 2**64  # the point of the test
    per_day = [sum(Fraction(v) for i, v in enumerate(sent) if i % days == d) for d in range(days)]
    per_subject = {
        f"s{k}": sum(Fraction(v) for i, v in enumerate(sent) if i % 3 == k) for k in range(3)
    }
    window = f"from={T0}&to={T0 + days * DAY_MS}"

    def check() -> None:
        summary = exact(client.get(f"/v1/usage/summary?{window}"))
        assert [r["value"] for r in summary["data"] if r["meter"] == "big"] == [expected]
        series = exact(client.get(f"/v1/meters/big/query?{window}&granularity=day"))
        assert [p["value"] for p in series["data"]] == per_day
        hours = exact(client.get(f"/v1/meters/big/query?{window}&granularity=hour"))
        assert sum(p["value"] for p in hours["data"]) == expected
        month = exact(client.get(f"/v1/meters/big/query?{window}&granularity=month"))
        assert [p["value"] for p in month["data"]] == [expected]
        grouped = exact(client.get(f"/v1/usage/summary?{window}&group_by=subject"))
        got = {r["group"]["subject"]: r["value"] for r in grouped["data"] if r["meter"] == "big"}
        assert got == per_subject
        csv = client.get(f"/v1/meters/big/query?{window}&granularity=month&format=csv")
        assert Fraction(csv.text.splitlines()[1].split(",")[-1]) == expected

    check()
    assert store.rebuild() >= 1
    check()
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            kinds = conn.execute(
                text("SELECT DISTINCT typeof(sum_carry), typeof(sum_units) FROM rollups")
            ).all()
        assert kinds == [("integer", "integer")]


def test_a_sum_that_goes_huge_and_back_is_exact(client: TestClient) -> None:
    reply = client.post(
        "/v1/meters",
        json={"slug": "swing", "event_type": "big", "aggregation": "sum", "value_property": "v"},
    )
    assert reply.status_code == 201, reply.text
    up = [str(BIG)] * 40
    down = [f"-{BIG}"] * 40
    tail = ["0.1", "0.2", "1"]
    send(client, up, "up", 1)
    send(client, down, "down", 1)
    send(client, tail, "tail", 1)
    window = f"from={T0}&to={T0 + DAY_MS}"
    summary = exact(client.get(f"/v1/usage/summary?{window}"))
    assert [r["value"] for r in summary["data"] if r["meter"] == "swing"] == [Fraction("1.3")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_migration_0004_keeps_stored_sums(backend: str, tmp_path: Path) -> None:
    """Rows written before 0004 (sum_units up to 2**63, sum_nanos unbounded) keep their sums."""
    stored = [(2**63 - 5, 1_500_000_000), (-(2**62), -999_999_999), (7, 3), (0, 0)]
    with new_database(backend, tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine, "0002")
        with engine.begin() as conn:
            for bucket, (units, nanos) in enumerate(stored):
                conn.execute(
                    text(
                        "INSERT INTO rollups (meter_id, level, bucket, group_id, count, "
                        "sum_units, sum_nanos, last_time, last_seq) "
                        "VALUES (1, 0, :b, 1, 1, :u, :n, -1, -1)"
                    ),
                    {"b": bucket, "u": units, "n": nanos},
                )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT sum_carry, sum_units, sum_nanos FROM rollups ORDER BY bucket")
            ).all()
        engine.dispose()
    assert [join_sum(*row) for row in rows] == [u * NANO + n for u, n in stored]
    assert all(abs(u) < 10**18 and abs(n) < NANO for _, u, n in rows)


@given(st.integers(min_value=-(2**200), max_value=2**200))
def test_split_sum_round_trips_in_small_parts(nanos: int) -> None:
    carry, units, rest = split_sum(nanos)
    assert join_sum(carry, units, rest) == nanos
    assert abs(units) < LIMB and abs(rest) < NANO
    value = to_number(nanos)
    assert Fraction(str(value)) == Fraction(nanos, NANO)


def test_values_round_to_nanos_exactly_and_huge_exponents_are_refused_at_once() -> None:
    # The default Decimal context keeps 28 digits, which rounded before the nano did.
    assert to_nanos("1.00000000050000000000000000000001") == 1_000_000_001
    assert to_nanos("0.0000000015") == 2  # half to even
    assert to_nanos(f"{BIG}.999999999") == BIG * NANO + 999_999_999
    for huge in ("1e1000000", "1e999999999", f"{2**63}", "-1e19"):
        started = time.perf_counter()
        with pytest.raises(NotANumber):
            to_nanos(huge)
        assert time.perf_counter() - started < 0.05
    assert to_nanos("1e-999999999") == 0
