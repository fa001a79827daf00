"""Realistic sample usage for `usagekit demo`: one generator and meter set per seed profile.

Deterministic per (profile, tenant, day): running the demo again later the same
day re-sends identical events (counted as duplicates) and only adds new ones.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

DAY_MS = 86_400_000
Record = dict[str, Any]


@dataclass(frozen=True)
class Profile:
    name: str
    per_day: int  # events on an average weekday at scale 1
    make: Callable[[random.Random, int, int], tuple[str, str, Record]]  # -> type, subject, data
    meters: list[Record]


def _zipf(rng: random.Random, n: int) -> int:
    """1..n, a few heavy users and a long tail."""
    return min(n, int(1 / (rng.random() ** 0.8 + 1e-9)) % n + 1)


def _hpc(rng: random.Random, day: int, i: int) -> tuple[str, str, Record]:
    user = f"user{_zipf(rng, 60):02d}"
    project = f"proj-{int(user[4:]) % 7 + 1}"
    resource = rng.choice(["delta.ncsa", "expanse.sdsc", "anvil.purdue"])
    if rng.random() < 0.75:
        nodes = rng.choice([1, 1, 1, 2, 4, 8, 16])
        cpu = int(rng.lognormvariate(14, 1.2)) * nodes
        data = {
            "job_id": f"{day}{i:05d}",
            "job_name": rng.choice(["train", "sim", "assembly", "render", "etl"]),
            "cpu_time_ms": cpu,
            "data_transfer_bytes": int(rng.lognormvariate(18, 2)),
            "project": project,
            "partition": rng.choice(["cpu", "cpu", "gpu", "highmem"]),
            "nodes": nodes,
        }
        return "job", user, data
    charge = round(rng.lognormvariate(2.5, 1.0), 2)
    kind = "amie.storage" if rng.random() < 0.3 else "amie.compute"
    data = {
        "Resource": resource,
        "LocalProjectID": project,
        "LocalRecordID": f"{day}-{i}",
        "Username": user,
        "Charge": charge,
        "SignedCharge": charge,  # the AMIE profile's convention: its presets sum this
        "Attributes": {"NodeCount": rng.choice([1, 2, 4])},
    }
    return kind, user, data


def _geobox(rng: random.Random, day: int, i: int) -> tuple[str, str, Record]:
    user = str(_zipf(rng, 40))
    if rng.random() < 0.9:
        data = {
            "apikey": f"key-{user}-{rng.randint(1, 2)}",
            "bytes": int(rng.lognormvariate(9, 1.5)),
            "endpoint": rng.choice(["geocode", "tiles", "route", "features"]),
        }
        return "api_request", user, data
    return "process", user, {"seconds": round(rng.lognormvariate(2, 1), 3)}


def _civis(rng: random.Random, day: int, i: int) -> tuple[str, str, Record]:
    user_id = _zipf(rng, 30)
    org = 1 + user_id % 3
    if rng.random() < 0.8:
        tokens_in = int(rng.lognormvariate(7, 1))
        data = {
            "run_id": day * 100_000 + i,
            "job_id": 500 + user_id,
            "user_id": user_id,
            "organization_id": org,
            "run_time": round(rng.lognormvariate(1, 0.8), 3),
            "credits": round(tokens_in / 1000 * 0.4, 4),
            "input_tokens": tokens_in,
            "output_tokens": int(tokens_in * rng.uniform(0.1, 0.6)),
            "model_id": rng.choice(["claude-sonnet", "claude-haiku", "gpt-4o-mini"]),
        }
        return "llm_run", str(user_id), data
    data = {
        "run_id": day * 100_000 + i,
        "job_id": 900 + user_id,
        "user_id": user_id,
        "organization_id": org,
        "run_time": round(rng.lognormvariate(3, 1), 3),
        "num_records": int(rng.lognormvariate(9, 1.5)),
        "task": rng.choice(["IDR", "CDM"]),
    }
    return "matching_run", str(user_id), data


def _launchdarkly(rng: random.Random, day: int, i: int) -> tuple[str, str, Record]:
    """ld.* events as the LaunchDarkly profile's conventions describe them."""
    project = rng.choice(["web", "web", "mobile"])
    place = {"projectKey": project, "environmentKey": rng.choice(["production", "production",
                                                                  "staging"])}  # fmt: skip
    sdk, sdk_type, category = rng.choice(
        [("react", "client", "browser"), ("ios", "client", "mobile"), ("go", "server", "backend")]
    )
    version = rng.choice(["3.1.0", "3.2.1"])
    roll = rng.random()
    if roll < 0.4:
        kind = rng.choice(["user", "user", "user", "device", "organization"])
        key = f"{kind}-{_zipf(rng, 400)}"
        data = {**place, "contextKind": kind, "contextKey": key, "sdkName": sdk,
                "sdkType": sdk_type, "sdkVersion": version, "sdkAppId": f"app-{project}",
                "anonymous": kind == "user" and rng.random() < 0.1, "primary": kind == "user",
                "category": category}  # fmt: skip
        return "ld.context", key, data
    user = f"user-{_zipf(rng, 400)}"
    if roll < 0.75:
        flag = rng.choice(["new-checkout", "dark-mode", "search-v2", "pricing-test"])
        return "ld.evaluation", user, {**place, "flagKey": flag, "variation": rng.randint(0, 1)}
    if roll < 0.82:
        data = {"source": sdk_type, "sdk": sdk, "version": version,
                "connections": rng.randint(1, 20)}  # fmt: skip
        return "ld.stream", "relay", data
    if roll < 0.86:
        return "ld.event", user, {"kind": rng.choice(["received", "received", "published"])}
    if roll < 0.88:
        return "ld.data_export_event", user, {**place, "eventKind": rng.choice(["custom", "index"])}
    if roll < 0.91:
        event = {"eventKey": rng.choice(["checkout", "signup"]),
                 "eventKind": rng.choice(["custom", "feature"])}  # fmt: skip
        return "ld.experimentation_event", user, {**place, **event}
    if roll < 0.93:
        data = {**place, "experimentId": rng.choice(["exp-checkout", "exp-search"]), "key": user}
        return "ld.experimentation_key", user, data
    if roll < 0.97:
        kind = rng.choice(["errors", "logs", "logs", "metrics", "sessions", "traces"])
        return "ld.observability", "otel", {"projectKey": project, "kind": kind,
                                            "count": rng.randint(1, 500)}  # fmt: skip
    if roll < 0.99:
        data = {**place, "connectionType": rng.choice(["relay", "direct"]),
                "relayVersion": "8.10.0", "sdkName": "go", "sdkVersion": version,
                "sdkType": "server", "sdkAppId": f"app-{project}",
                "minutes": round(rng.uniform(1, 60), 2)}  # fmt: skip
        return "ld.service_connection", "relay", data
    return "ld.vega_ai", user, {"projectKey": project, "count": rng.randint(1, 5)}


def _meter(
    slug: str,
    event_type: str,
    aggregation: str,
    value: str | None = None,
    unit: str | None = None,
    **dims: str,
) -> Record:
    return {
        "slug": slug,
        "event_type": event_type,
        "aggregation": aggregation,
        "value_property": value,
        "dimensions": dims,
        "unit": unit,
    }


PROFILES = {
    "hpc": Profile(
        "hpc",
        400,
        _hpc,
        [
            _meter(
                "cpu_time",
                "job",
                "sum",
                "cpu_time_ms",
                "ms",
                project="project",
                partition="partition",
            ),
            _meter(
                "data_transfer", "job", "sum", "data_transfer_bytes", "bytes", project="project"
            ),
            _meter("jobs", "job", "count", None, "jobs", project="project", partition="partition"),
            _meter("active_users", "job", "unique_count", None, "users"),
        ],
    ),
    "geobox": Profile(
        "geobox",
        500,
        _geobox,
        [
            _meter(
                "api_calls",
                "api_request",
                "count",
                None,
                "calls",
                apikey="apikey",
                endpoint="endpoint",
            ),
            _meter("api_traffic", "api_request", "sum", "bytes", "bytes", apikey="apikey"),
            _meter("process_seconds", "process", "sum", "seconds", "s"),
        ],
    ),
    "civis": Profile(
        "civis",
        300,
        _civis,
        [
            _meter(
                "llm_input_tokens",
                "llm_run",
                "sum",
                "input_tokens",
                "tokens",
                model="model_id",
                organization="organization_id",
            ),
            _meter(
                "llm_output_tokens", "llm_run", "sum", "output_tokens", "tokens", model="model_id"
            ),
            _meter(
                "llm_credits",
                "llm_run",
                "sum",
                "credits",
                "credits",
                organization="organization_id",
            ),
            _meter("llm_run_time", "llm_run", "avg", "run_time", "s", model="model_id"),
            _meter(
                "matching_records", "matching_run", "sum", "num_records", "records", task="task"
            ),
        ],
    ),
    # its meters are the ld.* presets (the LaunchDarkly profile's)
    "launchdarkly": Profile("launchdarkly", 700, _launchdarkly, []),
}


_HOURS = range(24)
# Busier in the (UTC) working day: a smooth curve over the hours, as cumulative weights.
_HOUR_WEIGHTS = list(
    itertools.accumulate(1 + 3 * max(0.0, math.sin((h - 6) / 16 * math.pi)) for h in _HOURS)
)


def _day_count(profile: Profile, tenant: str, day: int, scale: float) -> int:
    rng = random.Random(f"count:{profile.name}:{tenant}:{day}")
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 5, 6 = Saturday, Sunday
    weekend = 0.45 if weekday >= 5 else 1.0
    growth = 1 + 0.004 * (day % 365)
    return max(1, int(profile.per_day * scale * weekend * growth * rng.uniform(0.85, 1.15)))


def count(profile: Profile, tenant: str, first_day: int, last_day: int, scale: float) -> int:
    """How many events `events` yields for whole days (today is cut at `now` there)."""
    return sum(_day_count(profile, tenant, d, scale) for d in range(first_day, last_day + 1))


def events(
    profile: Profile, tenant: str, first_day: int, now_ms: int, scale: float
) -> Iterator[Record]:
    """The profile's events from the start of `first_day` (days since 1970) until `now_ms`."""
    for day in range(first_day, now_ms // DAY_MS + 1):
        rng = random.Random(f"events:{profile.name}:{tenant}:{day}")
        for i in range(_day_count(profile, tenant, day, scale)):
            hour = rng.choices(_HOURS, cum_weights=_HOUR_WEIGHTS)[0]
            t = day * DAY_MS + hour * 3_600_000 + rng.randrange(3_600_000)
            kind, subject, data = profile.make(rng, day, i)
            if t >= now_ms:
                continue
            yield {
                "id": f"{profile.name}-{day}-{i}",
                "source": f"demo-{profile.name}",
                "type": kind,
                "subject": subject,
                "time": t,
                "data": data,
            }
