"""amieclient's UsageClient, working: `from usagekit.compat.amie import UsageClient`.

Same constructor and methods as upstream (site_name, api_key, usage_url; send,
get_failed_records, clear_failed_records, status), plus the parts upstream
0.4.0 lacks or breaks: requests chunked under 768 KiB by size, Storage records,
clearing failed records, and `summary()` (net charges per project and resource,
by usage type, from usagekit's amie.* preset meters).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from usagekit.client.sync import Client
from usagekit.profiles.amie.compat_records import (
    AdjustmentUsageRecord,
    ComputeUsageRecord,
    StorageUsageRecord,
    UsageMessage,
    UsageMessageError,
    UsageMessageException,
    UsageRecord,
    UsageRecordError,
    UsageRecordException,
    _Printable,
)

CHUNK_BYTES = 768 * 1024  # the client's cap; the API refuses bodies over 1024 KiB
CLEAR_IDS = 500  # FailedRecordIDs per DELETE (keeps URLs short)


class UsageResponseError(Exception):
    """The server refused a request; `status_code` is its HTTP status."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class UsageResponse(_Printable):
    """The reply to one sent message: a message and the records that failed validation."""

    def __init__(
        self,
        message: str,
        failed_records: list[UsageRecordError],
        loaded: int = 0,
        duplicates: int = 0,
        failed: int = 0,
    ) -> None:
        self.message = message
        self.failed_records = failed_records
        self.loaded_record_count = loaded
        self.duplicate_record_count = duplicates
        self.failed_record_count = failed  # failed processing: see get_failed_records()

    @classmethod
    def from_dict(cls, input_dict: Mapping[str, Any]) -> UsageResponse:
        return cls(
            str(input_dict.get("Message")),
            [UsageRecordError.from_dict(d) for d in input_dict.get("ValidationFailedRecords", [])],
            int(input_dict.get("LoadedRecordCount", 0)),
            int(input_dict.get("DuplicateRecordCount", 0)),
            int(input_dict.get("FailedRecordCount", 0)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "Message": self.message,
            "ValidationFailedRecords": [r.as_dict() for r in self.failed_records],
        }

    def __repr__(self) -> str:
        return f"<UsageResponse: {self.message}>"


class FailedUsageResponse(_Printable):
    """Records that failed processing, each with its `failed_record_id`."""

    def __init__(self, failed_records: list[UsageRecordError]) -> None:
        self.failed_records = failed_records

    @classmethod
    def from_dict(cls, input_dict: Mapping[str, Any]) -> FailedUsageResponse:
        rows = input_dict.get("ValidationFailedRecords", [])
        return cls([UsageRecordError.from_dict(d) for d in rows])

    def as_dict(self) -> dict[str, Any]:
        return {"FailedRecords": [r.as_dict() for r in self.failed_records]}

    def __repr__(self) -> str:
        return f"<FailedUsageResponse: {len(self.failed_records)} records>"


class UsageStatusResource(_Printable):
    """One resource's records processed in the window: loaded, failed, net charge, errors."""

    def __init__(
        self,
        resource: str,
        loaded_record_count: int,
        failed_job_count: int,
        total_charge: Any,
        errors: list[UsageMessageError] | None = None,
    ) -> None:
        self.resource = resource
        self.loaded_record_count = loaded_record_count
        self.failed_job_count = failed_job_count
        self.total_charge = total_charge
        self.errors = errors if errors is not None else []

    @classmethod
    def from_dict(cls, input_dict: Mapping[str, Any]) -> UsageStatusResource:
        return cls(
            input_dict["Resource"],
            input_dict["LoadedRecordCount"],
            input_dict["FailedJobCount"],
            input_dict["TotalCharge"],
            [UsageMessageError.from_dict(d) for d in input_dict.get("Errors", [])],
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "Resource": self.resource,
            "LoadedRecordCount": self.loaded_record_count,
            "FailedJobCount": self.failed_job_count,
            "TotalCharge": self.total_charge,
            "Errors": [e.as_dict() for e in self.errors],
        }

    def __repr__(self) -> str:
        return f"<UsageStatusResource: {self.resource}, {len(self.errors)} errors>"


class UsageStatus(_Printable):
    """The status reply: one UsageStatusResource per resource."""

    def __init__(self, resources: list[UsageStatusResource]) -> None:
        self.resources = resources

    @classmethod
    def from_list(cls, input_list: Iterable[Mapping[str, Any]]) -> UsageStatus:
        return cls([UsageStatusResource.from_dict(d) for d in input_list])

    @classmethod
    def from_json(cls, input_json: str) -> UsageStatus:
        return cls.from_list(json.loads(input_json))

    def as_list(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.resources]

    def as_dict(self) -> list[dict[str, Any]]:
        return self.as_list()

    def __repr__(self) -> str:
        return f"<UsageStatus: {len(self.resources)} resources>"


@dataclass(frozen=True)
class UsageSummaryRow:
    """Net charges of one project on one resource; credits and refunds count negative."""

    local_project_id: str
    resource: str
    compute: int | float
    storage: int | float
    adjustment: int | float
    total_charge: int | float


@dataclass
class UsageSummary(_Printable):
    rows: list[UsageSummaryRow] = field(default_factory=list)

    @classmethod
    def from_list(cls, input_list: Iterable[Mapping[str, Any]]) -> UsageSummary:
        return cls(
            [
                UsageSummaryRow(
                    d["LocalProjectID"],
                    d["Resource"],
                    d["Compute"],
                    d["Storage"],
                    d["Adjustment"],
                    d["TotalCharge"],
                )
                for d in input_list
            ]
        )

    def as_dict(self) -> list[dict[str, Any]]:
        return [
            {
                "LocalProjectID": r.local_project_id,
                "Resource": r.resource,
                "Compute": r.compute,
                "Storage": r.storage,
                "Adjustment": r.adjustment,
                "TotalCharge": r.total_charge,
            }
            for r in self.rows
        ]

    def __iter__(self) -> Iterator[UsageSummaryRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _messages(
    usage_packets: UsageMessage | Sequence[UsageRecord] | UsageRecord,
) -> list[UsageMessage]:
    """One message per usage type (a list mixing types is split, in order of first sight)."""
    if isinstance(usage_packets, UsageMessage):
        return [usage_packets]
    if isinstance(usage_packets, UsageRecord):
        return [UsageMessage([usage_packets])]
    by_type: dict[str, list[UsageRecord]] = {}
    for record in usage_packets:
        if not isinstance(record, UsageRecord):
            raise UsageMessageException("Can't send something that isn't a UsageRecord")
        by_type.setdefault(record.record_type, []).append(record)
    return [UsageMessage(records) for records in by_type.values()]


def chunk_bodies(message: UsageMessage, limit: int = CHUNK_BYTES) -> Iterator[bytes]:
    """JSON bodies of at most `limit` bytes (a single larger record goes alone)."""
    head = f'{{"UsageType": {json.dumps(message.usage_type)}, "Records": ['.encode()
    parts: list[bytes] = []
    size = len(head) + 2
    for record in message.records:
        part = json.dumps(record.as_dict()).encode()
        if parts and size + len(part) + 2 > limit:
            yield head + b", ".join(parts) + b"]}"
            parts, size = [], len(head) + 2
        parts.append(part)
        size += len(part) + 2
    if parts or not message.records:
        yield head + b", ".join(parts) + b"]}"


def _iso(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class UsageClient:
    """AMIE usage client for one site: its name (a usagekit tenant) and API key."""

    def __init__(
        self,
        site_name: str,
        api_key: str,
        usage_url: str = "https://usage.xsede.org/api/v1",
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> None:
        self.usage_url = usage_url if usage_url.endswith("/") else usage_url + "/"
        self.site_name = site_name
        self._http = Client(
            self.usage_url.rstrip("/"),
            auth_headers={"XA-API-KEY": api_key, "XA-SITE": site_name},
            timeout=timeout,
            transport=transport,
            **options,
        )

    def __enter__(self) -> UsageClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Any:
        # Every call is safe to repeat: records are stored once by LocalRecordID.
        reply = self._http.request(
            method, "/" + path, params=params, content=body, idempotent=True, check=False
        )
        if reply.status_code != 200:
            try:
                message = str(reply.json().get("error"))
            except (ValueError, AttributeError):
                message = reply.text or reply.reason_phrase
            raise UsageResponseError(f"{reply.status_code}: {message}", reply.status_code)
        return reply.json()

    def send(
        self, usage_packets: UsageMessage | Sequence[UsageRecord] | UsageRecord
    ) -> list[UsageResponse]:
        """Send records (a message, a list, or one record); one UsageResponse per request.

        Requests are cut at 768 KiB of JSON, so any number of records can go in one call.
        """
        replies = []
        for message in _messages(usage_packets):
            for body in chunk_bodies(message):
                got = self._call("POST", "usage/", body=body)
                replies.append(UsageResponse.from_dict(got))
        return replies

    def get_failed_records(self) -> FailedUsageResponse:
        """Every record that failed processing (an unregistered project, resource or user)."""
        return FailedUsageResponse.from_dict(self._call("GET", "usage/failed"))

    def clear_failed_records(self, failed_records_or_ids: Any) -> bool:
        """Clear failed records, given as UsageRecordErrors or FailedRecordIDs."""
        items = (
            failed_records_or_ids
            if isinstance(failed_records_or_ids, list)
            else [failed_records_or_ids]
        )
        ids = [str(getattr(i, "failed_record_id", i)) for i in items]
        for start in range(0, len(ids), CLEAR_IDS):
            self._call("DELETE", "usage/failed/" + ",".join(ids[start : start + CLEAR_IDS]))
        return True

    def status(
        self, from_time: datetime | str | None = None, to_time: datetime | str | None = None
    ) -> UsageStatus:
        """Per resource: records processed in [from_time, to_time); naive times are UTC."""
        params = {
            k: v
            for k, v in (("FromTime", _iso(from_time)), ("ToTime", _iso(to_time)))
            if v is not None
        }
        return UsageStatus.from_list(self._call("GET", "usage/status", params=params))

    def summary(
        self, from_time: datetime | str | None = None, to_time: datetime | str | None = None
    ) -> UsageSummary:
        """Net charges per project and resource, by usage type, over record time [from, to)."""
        params = {
            k: v
            for k, v in (("FromTime", _iso(from_time)), ("ToTime", _iso(to_time)))
            if v is not None
        }
        return UsageSummary.from_list(self._call("GET", "usage/summary", params=params))


__all__ = [
    "AdjustmentUsageRecord",
    "ComputeUsageRecord",
    "FailedUsageResponse",
    "StorageUsageRecord",
    "UsageClient",
    "UsageMessage",
    "UsageMessageError",
    "UsageMessageException",
    "UsageRecord",
    "UsageRecordError",
    "UsageRecordException",
    "UsageResponse",
    "UsageResponseError",
    "UsageStatus",
    "UsageStatusResource",
    "UsageSummary",
    "UsageSummaryRow",
]
