"""A client generated from /openapi.json by openapi-python-client, against a live server.

The document is the contract: generation must give no warning, and the generated
client (made in a temporary folder, never committed) must create a meter, send
events, page through them, query and summarize them (totals checked against a plain
sum over the events sent) and read error bodies into its own Error model.
"""

from __future__ import annotations

import importlib
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import ADMIN_KEY
from tests.live import Live, serve

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PACKAGE = "usagekit_client"  # openapi-python-client's name for a document titled "usagekit"
DAY = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
TEAMS = ("red", "blue", "green")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("generated-client")
    with serve(f"sqlite:///{tmp}/api.db", tmp) as server:
        yield server


@pytest.fixture(scope="module")
def gen(live: Live, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, imported from where it was generated (docs/api.md's command)."""
    out = tmp_path_factory.mktemp("generated") / "client"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = ["generate", "--url", f"{live.url}/openapi.json", "--output-path", str(out)]
    made = subprocess.run(
        [str(BIN / "openapi-python-client"), *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    said = made.stdout + made.stderr
    assert made.returncode == 0, said
    assert "warning" not in said.lower(), said
    assert "error" not in said.lower(), said
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def part(gen: ModuleType, name: str) -> Any:
    """A module of the generated package: `api.meters.query_meter`, `models`."""
    return importlib.import_module(f"{gen.__name__}.{name}")


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def events(seed: int, n: int) -> list[dict[str, Any]]:
    """n jobs over three days: who, which team, how many seconds (integers: exact sums)."""
    rng = random.Random(seed)
    return [
        {
            "id": f"job-{i}",
            "type": "job",
            "subject": rng.choice(("alice", "bob")),
            "time": T0 + rng.randrange(3 * DAY),
            "data": {"seconds": rng.randrange(1, 10_000), "team": rng.choice(TEAMS)},
        }
        for i in range(n)
    ]


def test_a_generated_client_meters_queries_and_reads_errors(live: Live, gen: ModuleType) -> None:
    with (
        gen.AuthenticatedClient(base_url=live.url, token=ADMIN_KEY) as client,
        gen.Client(base_url=live.url) as anonymous,
    ):
        use(gen, client, anonymous)


def use(gen: ModuleType, client: Any, anonymous: Any) -> None:
    models = part(gen, "models")

    health = part(gen, "api.health.healthz").sync(client=anonymous)
    assert isinstance(health, models.HealthOut) and health.status == "ok"

    meter = part(gen, "api.meters.create_meter").sync(
        client=client,
        body=models.MeterIn(
            slug="job_seconds",
            event_type="job",
            aggregation=models.MeterInAggregation.SUM,
            value_property="seconds",
            dimensions=models.MeterInDimensions.from_dict({"team": "team"}),
            unit="s",
        ),
    )
    assert isinstance(meter, models.MeterOut) and meter.profile is None
    assert meter.dimensions.to_dict() == {"team": "team"}

    sent = events(15, 120)
    as_model = [models.EventIn.from_dict(e) for e in sent]
    send = part(gen, "api.events.send_events").sync
    first = send(client=client, body=as_model[:80])  # a JSON array
    second = send(client=client, body=models.EventBatch(events=as_model[60:]))  # {"events": []}
    bad = models.EventIn(id="bad", type_="job", subject="alice", time="yesterday")
    third = send(client=client, body=bad)  # one event alone
    assert (first.accepted, first.duplicates) == (80, 0)
    assert (second.accepted, second.duplicates) == (40, 20)
    assert third.accepted == 0 and [r.id for r in third.rejected] == ["bad"]

    listed: list[Any] = []
    cursor: Any = gen.types.UNSET
    while True:
        page = part(gen, "api.events.list_events").sync(client=client, limit=50, cursor=cursor)
        listed += page.data
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(e.id for e in listed) == sorted(e["id"] for e in sent)

    by_day_team: Counter[tuple[str, str]] = Counter()
    for e in sent:
        day = iso(T0 + (e["time"] - T0) // DAY * DAY)
        by_day_team[day, e["data"]["team"]] += e["data"]["seconds"]
    series = part(gen, "api.meters.query_meter").sync(
        "job_seconds",
        client=client,
        from_=iso(T0),
        to=iso(T0 + 3 * DAY),
        granularity=models.QueryMeterGranularity.DAY,
        group_by=["team"],
    )
    assert isinstance(series, models.QueryOut) and series.from_ == iso(T0)
    got = {(p.start, p.group["team"]): p.value for p in series.data if p.value}
    assert got == dict(by_day_team)

    per_subject: defaultdict[str, int] = defaultdict(int)
    for e in sent:
        per_subject[e["subject"]] += e["data"]["seconds"]
    summary = part(gen, "api.meters.usage_summary").sync(
        client=client, from_=iso(T0), to=iso(T0 + 3 * DAY), group_by=["subject"]
    )
    totals = {r.group["subject"]: r.value for r in summary.data if r.meter == "job_seconds"}
    assert totals == dict(per_subject)

    refused = part(gen, "api.meters.query_meter").sync_detailed(
        "job_seconds", client=client, aggregation_type="fortnightly"
    )
    assert refused.status_code == 400
    assert isinstance(refused.parsed, models.Error)
    assert (refused.parsed.error.code, refused.parsed.error.param) == (
        "invalid_request",
        "aggregation_type",
    )
    missing = part(gen, "api.meters.get_meter").sync("nope", client=client)
    assert isinstance(missing, models.Error) and missing.error.param == "slug"
    unknown = part(gen, "api.meters.list_meters").sync_detailed(client=anonymous)
    assert unknown.status_code == 401 and unknown.parsed.error.code == "unauthorized"
