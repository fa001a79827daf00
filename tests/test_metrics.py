"""GET /metrics on a real `usagekit serve`: exact event and request counts, summed over
workers, no tenant data, every metric documented, and off with --no-metrics."""

from __future__ import annotations

import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN_KEY
from tests.fault_kit import T0
from tests.live import serve
from usagekit.server.app import create_app
from usagekit.server.settings import Settings, SettingsError
from usagekit.services import metrics

ROOT = Path(__file__).resolve().parent.parent
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """/metrics as {(sample name, labels without pid): value}, summed over pids."""
    return parse(scrape_text(url))


def scrape_text(url: str) -> str:
    reply = httpx.get(f"{url}/metrics", timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    return reply.text


def parse(text: str) -> Samples:
    out: Samples = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = frozenset((k, v) for k, v in s.labels.items() if k != "pid")
            out[(s.name, labels)] += s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


SUBJECT = "subject-of-a-tenant"


def event(i: int, cpu: int = 1, tag: str = "m") -> dict[str, Any]:
    return {
        "id": f"{tag}-{i}",
        "type": "job",
        "subject": SUBJECT,
        "time": T0 + i,
        "data": {"cpu": cpu},
    }


def test_counts_events_and_requests_exactly(db_url: str, tmp_path: Path) -> None:
    with serve(db_url, tmp_path) as live, live.client() as c:
        before = scrape(live.url)
        first = [event(i) for i in range(25)]
        assert c.post("/v1/events", json=first).json()["accepted"] == 25
        # 7 repeats, 3 with other content (conflicts), 4 without a subject, 6 new.
        again = (
            first[:7]
            + [event(i, cpu=99) for i in range(7, 10)]
            + [{"id": f"bad-{i}", "type": "job", "time": T0} for i in range(4)]
            + [event(i) for i in range(100, 106)]
        )
        got = c.post("/v1/events", json=again).json()
        assert (got["accepted"], got["duplicates"], got["conflicts"]) == (6, 7, 3)
        assert len(got["rejected"]) == 4
        for slug in ("nope", "other"):
            assert c.get(f"/v1/meters/{slug}").status_code == 404
        assert httpx.get(f"{live.url}/no/such/path").status_code == 404
        assert httpx.post(f"{live.url}/v1/events", json=[]).status_code == 401
        key_id = c.get("/v1/keys").json()[0]["id"]
        text = scrape_text(live.url)
    after = parse(text)
    log = live.log.read_text()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    outcomes = {"accepted": 31, "duplicate": 7, "conflict": 3, "rejected": 4}
    for outcome, n in outcomes.items():
        assert delta("usagekit_events_total", outcome=outcome) == n, outcome
    requests = "usagekit_http_requests_total"
    assert delta(requests, method="POST", route="/v1/events", status="202") == 2
    assert delta(requests, method="POST", route="/v1/events", status="401") == 1
    assert delta(requests, method="GET", route="/v1/meters/{slug}", status="404") == 2
    assert delta(requests, method="GET", route="unmatched", status="404") == 1
    assert delta(requests, method="GET", route="/v1/keys", status="200") == 1
    assert delta(requests, method="GET", route="/metrics", status="200") == 1
    latency = "usagekit_http_request_duration_seconds_count"
    assert delta(latency, method="POST", route="/v1/events") == 3
    # Two ingest bodies, each committed by the writer in some group.
    assert delta("usagekit_writer_group_size_sum") >= 2
    assert delta("usagekit_writer_commit_seconds_count") >= 1
    assert value(after, "usagekit_writer_queue_depth") == 0
    assert value(after, "usagekit_process_resident_memory_bytes", process="api") > 10**6
    assert value(after, "usagekit_process_resident_memory_bytes", process="writer") > 10**6
    assert value(after, "usagekit_process_cpu_seconds", process="api") > 0
    # No tenant, key or subject in any label; only the documented label names.
    names = {k for (_, labels) in after for k, _ in labels}
    assert names <= {"method", "route", "status", "outcome", "limit", "fault", "process", "le"}
    for secret in (ADMIN_KEY, key_id, SUBJECT, "default"):
        assert secret not in text
    assert "Traceback" not in log


@pytest.mark.slow
def test_counts_sum_over_workers(db_url: str, tmp_path: Path) -> None:
    """With two workers every request is counted once, whichever worker served it."""
    sent = 0
    with serve(db_url, tmp_path, "--workers", "2", "--log-level", "info") as live:
        before = scrape(live.url)

        def send(i: int) -> int:
            body = [event(j, tag=f"w{i}") for j in range(5)]
            headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
            with httpx.Client(headers=headers, timeout=30) as c:  # a connection each
                reply = c.post(f"{live.url}/v1/events", json=body)
            assert reply.status_code == 202, reply.text
            return int(reply.json()["accepted"])

        serving: set[str] = set()
        with ThreadPoolExecutor(8) as pool:
            for _ in range(10):  # until both workers have served some
                sent += sum(pool.map(send, range(sent // 5, sent // 5 + 40)))
                serving = serving_pids(live.log.read_text())
                if len(serving) >= 2:
                    break
        assert len(serving) == 2, "one worker served every request"
        scrapes = [scrape(live.url) for _ in range(4)]  # served by either worker
    for after in scrapes:
        accepted = value(after, "usagekit_events_total", outcome="accepted")
        assert accepted - value(before, "usagekit_events_total", outcome="accepted") == sent
        posts = value(
            after, "usagekit_http_requests_total", method="POST", route="/v1/events", status="202"
        )
        assert posts == sent // 5
        assert value(after, "usagekit_process_resident_memory_bytes", process="api") > 0


def serving_pids(log: str) -> set[str]:
    return set(re.findall(r"pid=(\d+) msg=request method=POST", log))


@pytest.mark.slow
def test_metrics_directory_is_private_and_removed(tmp_path: Path) -> None:
    own = tmp_path / "tmp"
    own.mkdir()
    db = str(tmp_path / "u.db")
    with serve(db, tmp_path, "--workers", "2", env={"TMPDIR": str(own)}) as live:
        scrape(live.url)
        made = list(own.glob("usagekit-metrics-*"))
        assert len(made) == 1 and any(made[0].glob("*.db"))
    assert live.process.returncode == 0
    assert not list(own.glob("usagekit-metrics-*"))


def test_no_metrics_turns_it_off(tmp_path: Path) -> None:
    with serve(str(tmp_path / "u.db"), tmp_path, "--no-metrics") as live:
        reply = httpx.get(f"{live.url}/metrics")
        assert reply.status_code == 404
        assert reply.json()["error"]["code"] == "not_found"
        assert "x-request-id" in reply.headers


def test_metrics_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USAGEKIT_METRICS", "off")
    assert Settings.from_env().metrics is False
    monkeypatch.setenv("USAGEKIT_METRICS", "1")
    assert Settings.from_env().metrics is True
    monkeypatch.setenv("USAGEKIT_METRICS", "maybe")
    with pytest.raises(SettingsError, match="USAGEKIT_METRICS"):
        Settings.from_env()
    with pytest.raises(SettingsError, match="USAGEKIT_LOG_FORMAT"):
        Settings.load({"log_format": "xml"})
    routes = {getattr(r, "path", None) for r in create_app(Settings(metrics=False)).routes}
    assert "/metrics" not in routes


def documented_metrics() -> set[str]:
    """Metric names in the table of docs/operations.md's Metrics section."""
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(usagekit_\w+)`", section, re.MULTILINE))


def test_every_metric_is_documented(tmp_path: Path) -> None:
    documented = documented_metrics()
    defined = {
        m.name + ("_total" if m.type == "counter" else "") for m in metrics.REGISTRY.collect()
    }
    assert defined == documented
    with serve(str(tmp_path / "u.db"), tmp_path) as live:
        httpx.get(f"{live.url}/healthz")
        exported = {re.sub(r"_(bucket|sum|count)$", "", n) for n, _ in scrape(live.url)}
    assert exported <= documented, exported - documented
