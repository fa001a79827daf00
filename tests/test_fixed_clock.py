"""A server frozen at `fixed_now` stamps and defaults by that instant, not the real clock."""

from __future__ import annotations

from pathlib import Path

from tests.live import serve

NOW = "2026-11-15T12:34:56Z"


def test_a_live_server_takes_now_from_the_setting(db_url: str, tmp_path: Path) -> None:
    meter = {"slug": "calls", "event_type": "call", "aggregation": "count"}
    # Two events this month before "now", one earlier in November, one in October.
    times = ["2026-11-15T12:00:00Z", "2026-11-15T01:00:00Z", "2026-11-02T00:00:00Z",
             "2026-10-30T00:00:00Z"]  # fmt: skip
    sent = [{"id": f"e{k}", "type": "call", "subject": "s", "time": t}
            for k, t in enumerate(times)]  # fmt: skip
    with serve(db_url, tmp_path, env={"USAGEKIT_FIXED_NOW": NOW}) as live, live.client() as c:
        assert c.post("/v1/meters", json=meter).status_code == 201
        assert c.post("/v1/events", json=sent).json()["accepted"] == len(sent)
        stored = c.get("/v1/events").json()["data"]
        assert {e["received"] for e in stored} == {NOW}
        assert c.post("/v1/events/void", json={"ids": ["e1"]}).status_code == 200
        voided = {e["id"]: e["voided_at"] for e in c.get("/v1/events").json()["data"]}
        assert voided == {"e0": None, "e1": NOW, "e2": None, "e3": None}
        # With no bounds the summary covers the 30 days up to the frozen "now".
        summary = c.get("/v1/usage/summary").json()
    assert (summary["from"], summary["to"]) == ("2026-10-16T00:00:00Z", NOW)
    counted = [k for k, t in enumerate(times) if "2026-10-16" <= t < NOW and k != 1]
    assert summary["data"] == [{"meter": "calls", "unit": None, "group": {}, "value": len(counted)}]
