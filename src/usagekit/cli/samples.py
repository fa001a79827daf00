"""Realistic sample usage for `usagekit demo`: the native set, and each profile's (its samples).

Deterministic per (profile, tenant, day): running the demo again later the same
day re-sends identical events (counted as duplicates) and only adds new ones.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator

from usagekit import profiles as registry
from usagekit.profiles.base import Record, Samples, meter_record, zipf

DAY_MS = 86_400_000


def _hpc(rng: random.Random, day: int, i: int) -> tuple[str, str, Record]:
    user = f"user{zipf(rng, 60):02d}"
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


HPC = Samples(
    "hpc",
    400,
    _hpc,
    (
        meter_record(
            "cpu_time", "job", "sum", "cpu_time_ms", "ms", project="project", partition="partition"
        ),
        meter_record(
            "data_transfer", "job", "sum", "data_transfer_bytes", "bytes", project="project"
        ),
        meter_record(
            "jobs", "job", "count", None, "jobs", project="project", partition="partition"
        ),
        meter_record("active_users", "job", "unique_count", None, "users"),
    ),
    demo_tenants=("acme-hpc",),
)
# Native sample data first, then each profile's (the registry's order).
PROFILES: dict[str, Samples] = {
    HPC.name: HPC,
    **{p.samples.name: p.samples for p in registry.PROFILES if p.samples is not None},
}


_HOURS = range(24)
# Busier in the (UTC) working day: a smooth curve over the hours, as cumulative weights.
_HOUR_WEIGHTS = list(
    itertools.accumulate(1 + 3 * max(0.0, math.sin((h - 6) / 16 * math.pi)) for h in _HOURS)
)


def _day_count(profile: Samples, tenant: str, day: int, scale: float) -> int:
    rng = random.Random(f"count:{profile.name}:{tenant}:{day}")
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 5, 6 = Saturday, Sunday
    weekend = 0.45 if weekday >= 5 else 1.0
    growth = 1 + 0.004 * (day % 365)
    return max(1, int(profile.per_day * scale * weekend * growth * rng.uniform(0.85, 1.15)))


def count(profile: Samples, tenant: str, first_day: int, last_day: int, scale: float) -> int:
    """How many events `events` yields for whole days (today is cut at `now` there)."""
    return sum(_day_count(profile, tenant, d, scale) for d in range(first_day, last_day + 1))


def events(
    profile: Samples, tenant: str, first_day: int, now_ms: int, scale: float
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
