"""AMIE test records and the plain-Python oracle the profile's numbers are checked against."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RESOURCES = ("bridges2.psc.access-ci.org", "anvil.purdue.access-ci.org")
NEGATIVE = {"credit", "refund", "storage-credit"}
ADJUSTMENTS = ("credit", "refund", "storage-credit", "debit", "reservation", "storage-debit")


def _iso(dt: datetime, rng: random.Random) -> str:
    # Both spellings AMIE sites send: with an offset, and naive (UTC).
    return dt.isoformat() if rng.random() < 0.7 else dt.replace(tzinfo=None).isoformat()


def _charge(rng: random.Random) -> str:
    return f"{rng.randint(0, 50_000) / 100:.2f}"


def compute(
    n: int, seed: int, prefix: str, projects: list[str], users: list[str]
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        end = T0 + timedelta(minutes=rng.randint(0, 60 * 24 * 20))
        start = end - timedelta(minutes=rng.randint(1, 600))
        record: dict[str, Any] = {
            "Username": rng.choice(users),
            "LocalProjectID": rng.choice(projects),
            "LocalRecordID": f"{prefix}-job-{i}",
            "Resource": rng.choice(RESOURCES),
            "SubmitTime": _iso(start - timedelta(minutes=5), rng),
            "StartTime": _iso(start, rng),
            "EndTime": _iso(end, rng),
            "Charge": _charge(rng),
            "Attributes": {
                "NodeCount": rng.randint(1, 64),
                "Queue": rng.choice(["RM", "GPU"]),
                "JobName": f"sim {i}",
            },
        }
        if i % 7 == 0:
            record["ParentRecordID"] = f"{prefix}-job-{i // 7}"
        out.append(record)
    return out


def storage(
    n: int, seed: int, prefix: str, projects: list[str], users: list[str]
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "Username": rng.choice(users),
            "LocalProjectID": rng.choice(projects),
            "LocalRecordID": f"{prefix}-st-{i}",
            "Resource": rng.choice(RESOURCES),
            "CollectionTime": _iso(T0 + timedelta(hours=rng.randint(0, 480)), rng),
            "Charge": _charge(rng),
            "Attributes": {
                "BytesStored": rng.randint(0, 10**12),
                "MediaType": "Disk",
                "FileCount": rng.randint(0, 10**6),
            },
        }
        for i in range(n)
    ]


def adjustments(
    n: int, seed: int, prefix: str, projects: list[str], users: list[str]
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "AdjustmentType": ADJUSTMENTS[i % len(ADJUSTMENTS)],
            "Charge": _charge(rng),
            "StartTime": _iso(T0 + timedelta(hours=rng.randint(0, 480)), rng),
            "LocalProjectID": rng.choice(projects),
            "LocalRecordID": f"{prefix}-adj-{i}",
            "Resource": rng.choice(RESOURCES),
            "Username": rng.choice(users),
            "Comment": f"adjustment {i}",
        }
        for i in range(n)
    ]


_KW = {
    "Username": "username",
    "LocalProjectID": "local_project_id",
    "LocalRecordID": "local_record_id",
    "Resource": "resource",
    "SubmitTime": "submit_time",
    "StartTime": "start_time",
    "EndTime": "end_time",
    "Charge": "charge",
    "ParentRecordID": "parent_record_id",
    "CollectionTime": "collection_time",
    "AdjustmentType": "adjustment_type",
    "Comment": "comment",
}
_ATTR = {
    "NodeCount": "node_count",
    "Queue": "queue",
    "JobName": "job_name",
    "BytesStored": "bytes_stored",
    "MediaType": "media_type",
    "FileCount": "file_count",
}


def kwargs(record: dict[str, Any]) -> dict[str, Any]:
    """An AMIE record as keyword arguments of amieclient's record classes."""
    out = {_KW[k]: v for k, v in record.items() if k in _KW}
    out.update({_ATTR[k]: v for k, v in record.get("Attributes", {}).items()})
    return out


def signed(kind: str, record: dict[str, Any]) -> Decimal:
    charge = Decimal(str(record["Charge"]))
    return -charge if kind == "Adjustment" and record["AdjustmentType"] in NEGATIVE else charge


@dataclass
class Oracle:
    """What the server should hold: each (Resource, LocalRecordID) once, loaded or failed."""

    registry: dict[str, set[str]] = field(default_factory=dict)  # field -> known names
    loaded: dict[tuple[str, str], tuple[str, dict[str, Any]]] = field(default_factory=dict)
    failed: dict[tuple[str, str], tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def known(self, record: dict[str, Any]) -> bool:
        return all(record[f] in names for f, names in self.registry.items() if names)

    def send(self, kind: str, records: list[dict[str, Any]]) -> None:
        for record in records:
            key = (record["Resource"], record["LocalRecordID"])
            if key in self.loaded:
                continue  # a re-send: counted once
            if self.known(record):
                self.loaded[key] = (kind, record)
                self.failed.pop(key, None)
            else:
                self.failed[key] = (kind, record)

    def retry(self) -> None:
        """Registry fixed: failed records that are now known get loaded."""
        for key, (kind, record) in list(self.failed.items()):
            if self.known(record):
                self.loaded[key] = (kind, record)
                del self.failed[key]

    def status(self, keys: set[tuple[str, str]] | None = None) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"LoadedRecordCount": 0, "FailedJobCount": 0, "TotalCharge": Decimal(0)}
        )
        for key, (kind, record) in self.loaded.items():
            if keys is None or key in keys:
                out[key[0]]["LoadedRecordCount"] += 1
                out[key[0]]["TotalCharge"] += signed(kind, record)
        for key in self.failed:
            if keys is None or key in keys:
                out[key[0]]["FailedJobCount"] += 1
        return {r: {**v, "TotalCharge": number(v["TotalCharge"])} for r, v in out.items()}

    def summary(self) -> dict[tuple[str, str], dict[str, Any]]:
        out: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(
            lambda: {"Compute": Decimal(0), "Storage": Decimal(0), "Adjustment": Decimal(0)}
        )
        for kind, record in self.loaded.values():
            out[(record["LocalProjectID"], record["Resource"])][kind] += signed(kind, record)
        return {
            key: {
                **{k: number(v) for k, v in row.items()},
                "TotalCharge": number(sum(row.values(), Decimal(0))),
            }
            for key, row in out.items()
        }


def number(value: Decimal) -> int | float:
    """A decimal as the server writes it: an int when whole, else the nearest float."""
    return int(value) if value == value.to_integral_value() else float(value)
