"""The columnar fold of counts and sums equals the exact per-event loop."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from usagekit.core.events import Event
from usagekit.core.limit_periods import PeriodKind
from usagekit.core.limit_touches import MeterRows, touches
from usagekit.core.limits import Limit, Scope
from usagekit.core.meters import Aggregation, Meter

NOW = 1_790_000_000_000  # 2026-09-21
ZONES = ["UTC", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe", "Europe/Berlin"]
VALUES = st.one_of(
    st.integers(-(2**40), 2**40),
    st.integers(-(2**70), 2**70),  # past 64 bits: the exact loop takes these commits
    st.decimals(-(10**6), 10**6, places=3, allow_nan=False, allow_infinity=False).map(str),
    st.just("not a number"),
    st.none(),
)
EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.integers(NOW - 40 * 86_400_000, NOW + 86_400_000),
        VALUES,
        st.sampled_from(["p1", "p2", None]),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    EVENTS,
    st.sampled_from([Aggregation.SUM, Aggregation.COUNT, Aggregation.AVG]),
    st.sampled_from(list(PeriodKind)),
    st.sampled_from(ZONES),
    st.sampled_from(list(Scope)),
    st.booleans(),
)
def test_columnar_fold_equals_the_loop(
    raw: list[tuple[str, int, object, str | None]],
    aggregation: Aggregation,
    period: PeriodKind,
    tz: str,
    scope: Scope,
    filtered: bool,
) -> None:
    meter = Meter("m", "job", aggregation, None if aggregation is Aggregation.COUNT else "v",
                  {"project": "project"})  # fmt: skip
    limit = Limit("l", "m", period, tz, 10**9, scope=scope,
                  filters={"project": ("p1",)} if filtered else {})  # fmt: skip
    items = []
    for k, (subject, t, value, project) in enumerate(raw):
        data = {"v": value, "project": project}
        items.append((k + 1, Event(f"e{k}", "s", "job", subject, t, data, b"")))
    rows = MeterRows.read(meter, items)
    fast = touches(limit, meter, rows, NOW, False)
    slow = touches(limit, meter, MeterRows.read(meter, items), NOW, False, columnar=False)
    assert fast.keys() == slow.keys()
    for key, touch in slow.items():
        assert fast[key].period == touch.period
        cell, want = fast[key].tally.cell, touch.tally.cell
        assert (cell.count, cell.nanos) == (want.count, want.nanos), key
