"""Text that array literals, JSON and CSV treat specially survives every write path unchanged.

On PostgreSQL the writer sends each column as one array literal (store.pg);
quotes, backslashes, braces, commas, NULL, control characters and non-ASCII must
come back exactly, as ids, subjects, data, group keys and unique values.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi.testclient import TestClient

AWKWARD = [
    'say "hi"',
    "back\\slash",
    "\\n not a newline",
    "{braces},commas",
    "NULL",
    "null",
    "line\nbreak\ttab",
    "bell\x07\x01",
    "ünïcødé ✓ 🚀",
    "sep\u2028arator",
    '{"looks": ["like", "json"]}',
    " ",
]
T0 = 1793577600000  # 2026-11-02T00:00:00Z


def records(data_extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{text}#{i}",
            "source": text,
            "type": "job",
            "subject": AWKWARD[(i + 3) % len(AWKWARD)],
            "time": T0 + i * 60_000,
            "data": {
                "cpu": i + 1,
                "project": text,
                "note": [text, {"k": text}],
                **(data_extra or {}),
            },
        }
        for i, text in enumerate(AWKWARD)
    ]


def test_awkward_text_round_trips(client: TestClient) -> None:
    for meter in (
        {"slug": "cpu", "event_type": "job", "aggregation": "sum", "value_property": "cpu",
         "dimensions": {"project": "project"}},
        {"slug": "users", "event_type": "job", "aggregation": "unique_count",
         "dimensions": {"project": "project"}},
    ):  # fmt: skip
        assert client.post("/v1/meters", json=meter).status_code == 201
    sent = records()
    # One request per record: columns without control characters take the literal path.
    assert sum(client.post("/v1/events", json=[r]).json()["accepted"] for r in sent) == len(sent)

    listed = client.get("/v1/events", params={"limit": 100}).json()["data"]
    got = {(e["source"], e["id"]): (e["subject"], e["data"]) for e in listed}
    assert got == {(r["source"], r["id"]): (r["subject"], r["data"]) for r in sent}

    window = {"from": "2026-11-02T00:00:00Z", "to": "2026-11-03T00:00:00Z", "group_by": "project"}
    sums: dict[str, int] = defaultdict(int)
    users: dict[str, set[str]] = defaultdict(set)
    for r in sent:
        sums[r["data"]["project"]] += r["data"]["cpu"]
        users[r["data"]["project"]].add(r["subject"])
    cpu = client.get("/v1/meters/cpu/query", params=window).json()["data"]
    assert {r["group"]["project"]: r["value"] for r in cpu} == sums
    unique = client.get("/v1/meters/users/query", params=window).json()["data"]
    assert {r["group"]["project"]: r["value"] for r in unique} == {
        p: len(s) for p, s in users.items()
    }

    again = client.post("/v1/events", json=sent).json()  # all in one: the escaped path
    assert (again["accepted"], again["duplicates"], again["conflicts"]) == (0, len(sent), 0)
    changed = client.post("/v1/events", json=records({"extra": "x"})).json()
    assert (changed["accepted"], changed["conflicts"]) == (0, len(sent))
    assert sorted(c["id"] for c in changed["conflicting"]) == sorted(r["id"] for r in sent)


def test_array_literals_read_back_as_the_values(pg_schema: str) -> None:
    """store.pg's literals, parsed by PostgreSQL, equal the Python values (None as NULL);
    text with control characters goes to psycopg's own dumper instead."""
    import psycopg

    from tests.conftest import pg_url
    from usagekit.store.pg import FLOAT, INT, TEXT, array_literal

    plain = [t for t in AWKWARD if not any(ord(c) < 32 for c in t)]
    cases = [
        (TEXT, "text", [*plain, None, ""], True),
        (TEXT, "text", [*AWKWARD, None], False),
        (INT, "bigint", [0, -1, 2**63 - 1, -(2**63), None, 42], True),
        (FLOAT, "float8", [0.1, 1e300, -2.5e-8, 3, None, 1 / 3, -0.0], True),
    ]
    with psycopg.connect(pg_url(pg_schema)) as conn:
        for kind, sql_type, values, as_literal in cases:
            sent = array_literal(values, kind)
            assert isinstance(sent, str) == as_literal
            row = conn.execute(f"SELECT %s::{sql_type}[]", (sent,)).fetchone()
            assert row is not None
            want = [float(v) if kind == FLOAT and v is not None else v for v in values]
            assert row[0] == want
