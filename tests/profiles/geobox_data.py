"""Geobox test data and the plain-Python oracle the profile's answers are checked against."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import ADMIN_KEY
from tests.live import Live

HOUR = 3_600_000
DAY = 24 * HOUR
USERS = ("7", "8", "31")
DAYS_BACK = (2, 30, 120)  # the days_before_now values the tests use
SPAN_DAYS = 130
RANGE_MESSAGE = "one of days_before_now or from_date/to_date parameters must have value"


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def naive(ms: int) -> str:
    """A date the way Geobox callers write it: "%Y-%m-%dT%H:%M:%S", UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def events(now: int, n: int, seed: int, source: str = "geobox") -> list[dict[str, Any]]:
    """Calls and processes of USERS over the last SPAN_DAYS days, none near a days_before_now
    edge (the server's `now` is a little later than ours)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    edges = [now - d * DAY for d in DAYS_BACK]
    while len(out) < n:
        i = len(out)
        user = rng.choice(USERS)
        t = now - rng.randint(0, SPAN_DAYS * DAY)
        if any(e - 10 * 60_000 <= t < e + 60 * 60_000 for e in edges):
            continue
        event: dict[str, Any] = {
            "id": f"{source}-{i}",
            "source": source,
            "subject": user,
            "time": t,
        }
        if rng.random() < 0.8:
            data: dict[str, Any] = {"apikey": f"pk-{user}-{rng.randint(1, 2)}"}
            if i % 9:
                data["bytes"] = rng.randint(0, 5_000_000)
            event.update(type="api_request", data=data)
        else:
            event.update(type="process", data={"seconds": round(rng.uniform(0.1, 300), 3)})
        out.append(event)
    return out


# -- buckets, by calendar arithmetic (independent of usagekit.core.windows) ------------------


def _floor(ms: int, scale: str) -> datetime:
    d = datetime.fromtimestamp(ms // 1000, UTC)
    if scale == "hour":
        return d.replace(minute=0, second=0, microsecond=0)
    if scale == "day":
        return d.replace(hour=0, minute=0, second=0, microsecond=0)
    return d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _step(d: datetime, scale: str, sign: int) -> datetime:
    if scale == "hour":
        return d + sign * timedelta(hours=1)
    if scale == "day":
        return d + sign * timedelta(days=1)
    index = d.year * 12 + d.month - 1 + sign
    return d.replace(year=index // 12, month=index % 12 + 1)


def _ms(d: datetime) -> int:
    return int(d.timestamp()) * 1000


def series(
    evs: list[dict[str, Any]], lo: int, hi: int, scale: str, param: str, limit: int, **match: str
) -> list[dict[str, Any]]:
    """Newest `limit` buckets of [lo, hi): calls (count) or traffic (sum of bytes)."""
    chosen = [
        e
        for e in evs
        if e["type"] == "api_request"
        and all(
            (e["subject"] if k == "subject" else e["data"].get(k)) == v for k, v in match.items()
        )
    ]
    out = []
    start = _floor(hi - 1, scale)
    first = _floor(lo, scale)
    while start >= first and len(out) < limit:
        a, b = max(_ms(start), lo), min(_ms(_step(start, scale, 1)), hi)
        inside = [e for e in chosen if a <= e["time"] < b]
        traffic = sum(e["data"].get("bytes", 0) for e in inside)
        value = len(inside) if param == "calls" else traffic
        out.append({"date": iso(_ms(start)), "value": value})
        start = _step(start, scale, -1)
    return out


def process(evs: list[dict[str, Any]], subject: str, lo: int, hi: int) -> float:
    return sum(
        e["data"]["seconds"]
        for e in evs
        if e["type"] == "process" and e["subject"] == subject and lo <= e["time"] < hi
    )


def summary(evs: list[dict[str, Any]], subject: str) -> dict[str, Any]:
    calls = [e for e in evs if e["type"] == "api_request" and e["subject"] == subject]
    return {
        "calls": len(calls),
        "traffic": sum(e["data"].get("bytes", 0) for e in calls),
        "process_seconds": process(evs, subject, 0, 2**62),
    }


def plan(now: int) -> tuple[list[list[Any]], Any]:
    """The calls every client makes, and a function (events, now) -> expected answers.

    Keys: "u7" (read, user 7), "admin" (admin, no user). Dates are whole seconds.
    """
    frm = (now - 47 * DAY - 1_234_000) // 1000 * 1000
    to = (now - 3 * DAY + 777_000) // 1000 * 1000
    calls: list[list[Any]] = []
    wants: list[Any] = []

    def ask(key: str, method: str, kwargs: dict[str, Any], want: Any) -> None:
        calls.append([key, method, kwargs])
        wants.append(want)

    for scale, days, limit in (("hour", 2, 30), ("day", 30, None), ("month", 120, 6)):
        for param in ("calls", "traffic"):
            kw = {"scale": scale, "param": param, "days_before_now": days}
            if limit:
                kw["limit"] = limit
            n = limit or 10
            for key, resource, match in (
                ("u7", {"user": "me"}, {"subject": "7"}),
                ("u7", {"apikey": "pk-7-2"}, {"apikey": "pk-7-2"}),
                ("admin", {"user": 8}, {"subject": "8"}),
                ("admin", {"apikey": "pk-31-1", "owner": 31}, {"apikey": "pk-31-1"}),
            ):
                ask(
                    key,
                    "get_api_usage",
                    {**kw, "resource": resource},
                    lambda ev, nw, d=days, s=scale, p=param, n=n, m=match: series(
                        ev, nw - d * DAY, nw, s, p, n, **m
                    ),
                )
            ranged = {
                "scale": scale,
                "param": param,
                "from_date": naive(frm),
                "to_date": naive(to),
                "limit": 50,
            }
            ask(
                "u7",
                "get_api_usage",
                {**ranged, "resource": {"user": "me"}},
                lambda ev, nw, s=scale, p=param: series(ev, frm, to, s, p, 50, subject="7"),
            )
            ask(
                "admin",
                "get_api_usage",
                {**ranged, "resource": {"apikey": "pk-8-1", "owner": 8}},
                lambda ev, nw, s=scale, p=param: series(ev, frm, to, s, p, 50, apikey="pk-8-1"),
            )
    ask(
        "u7",
        "get_process_usage",
        {"days_before_now": 30},
        lambda ev, nw: process(ev, "7", nw - 30 * DAY, nw),
    )
    ask(
        "u7",
        "get_process_usage",
        {"from_date": naive(frm), "to_date": naive(to)},
        lambda ev, nw: process(ev, "7", frm, to),
    )
    ask(
        "admin",
        "get_process_usage",
        {"user_id": 31, "days_before_now": 120},
        lambda ev, nw: process(ev, "31", nw - 120 * DAY, nw),
    )
    ask("u7", "get_usage_summary", {}, lambda ev, nw: summary(ev, "7"))
    ask("admin", "get_usage_summary", {"user_id": 8}, lambda ev, nw: summary(ev, "8"))
    ask("u7", "update_usage", {}, lambda ev, nw: summary(ev, "7"))
    ask("admin", "update_usage", {"user_id": 31}, lambda ev, nw: summary(ev, "31"))

    def expected(evs: list[dict[str, Any]], at: int) -> list[Any]:
        return [want(evs, at) for want in wants]

    return calls, expected


def same(got: Any, want: Any) -> bool:
    """Equal, with floats compared to a microsecond and summaries on their numbers only."""
    if isinstance(want, dict) and isinstance(got, dict):
        return all(same(got.get(k), v) for k, v in want.items())
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, float) or isinstance(got, float):
        return isinstance(got, int | float) and abs(got - want) < 1e-6
    return bool(got == want)


@dataclass
class World:
    """A running server holding `events` (the oracle's input) and keys by name."""

    live: Live
    db: str  # the database URL the server runs on
    now: int
    events: list[dict[str, Any]]
    keys: dict[str, str]


def populate(live: Live, db: str) -> World:
    """Send the events (with a duplicate resend, voids, a rejected record and another
    tenant's data) and make keys: admin, u7/u8 (read, users 7/8), ingest7, reader (no user)."""
    now = now_ms()
    evs = events(now, 3000, 1)
    bad = {"id": "bad", "source": "geobox", "type": "process", "time": now, "data": {}}
    with live.client() as admin:
        sent = admin.post("/v1/events", json=[*evs[:1500], bad]).json()
        assert sent["accepted"] == 1500 and len(sent["rejected"]) == 1
        assert admin.post("/v1/events", json=evs[1500:]).json()["accepted"] == 1500
        assert admin.post("/v1/events", json=evs[:100]).json()["duplicates"] == 100
        gone = [e for e in evs if e["subject"] == "7"][:5]
        voided = admin.post(
            "/v1/events/void", json={"source": "geobox", "ids": [e["id"] for e in gone]}
        )
        assert voided.status_code == 200, voided.text
        evs = [e for e in evs if e not in gone]
        # another tenant with the same user ids and key names must not leak in
        admin.post("/v1/tenants", json={"name": "other"})
        other = admin.post("/v1/keys", json={"tenant": "other", "role": "admin"}).json()["key"]
        with live.client(other) as c:
            assert c.post("/v1/events", json=events(now, 400, 2, "o")).status_code == 202
        keys = {"admin": ADMIN_KEY}
        for name, role, subject in (
            ("u7", "read", "7"),
            ("u8", "read", "8"),
            ("ingest7", "ingest", "7"),
            ("reader", "read", None),
        ):
            body = {"role": role, **({"subject": subject} if subject else {})}
            keys[name] = admin.post("/v1/keys", json=body).json()["key"]
    return World(live, db, now, evs, keys)
