"""AMIE usage records, messages and replies, shaped like amieclient's (with its bugs fixed).

Upstream 0.4.0 sends ParentRecordID as `[null]`, cannot serialise or parse
Storage records, and cannot print a status; these classes do all of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

USAGE_TYPES = ("Compute", "Storage", "Adjustment")


class UsageRecordException(Exception):
    pass


class UsageMessageException(Exception):
    """A message mixing usage types, or holding something that is not a record."""


def _when(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class _Printable:
    def as_dict(self) -> Any:
        raise NotImplementedError

    def json(self, **json_kwargs: Any) -> str:
        """This object as JSON."""
        return json.dumps(self.as_dict(), **json_kwargs)

    def pretty_print(self) -> None:
        """print() an indented JSON version."""
        print(self.json(indent=4, sort_keys=True))


class UsageRecord(_Printable):
    """One usage record; `record_type` is its AMIE UsageType."""

    record_type: ClassVar[str]
    _FIELDS: ClassVar[dict[str, str]]  # attribute -> AMIE field
    _ATTRIBUTES: ClassVar[dict[str, str]] = {}  # attribute -> Attributes field

    def __init__(self, **values: Any) -> None:
        for name in (*self._FIELDS, *self._ATTRIBUTES):
            setattr(self, name, values.get(name))

    @classmethod
    def from_dict(cls, input_dict: Mapping[str, Any]) -> UsageRecord:
        """A record from its AMIE dictionary (extra fields are ignored)."""
        attributes = input_dict.get("Attributes") or {}
        values = {a: input_dict.get(f) for a, f in cls._FIELDS.items()}
        values.update({a: attributes.get(f) for a, f in cls._ATTRIBUTES.items()})
        if cls is ComputeUsageRecord:
            values["parent_record_id"] = _unwrap(values.get("parent_record_id"))
        return cls(**values)

    @classmethod
    def from_json(cls, input_json: str) -> UsageRecord:
        return cls.from_dict(json.loads(input_json))

    def as_dict(self) -> dict[str, Any]:
        """The AMIE dictionary of this record (unset optional fields left out)."""
        out = {f: _when(getattr(self, a)) for a, f in self._FIELDS.items()}
        out = {f: v for f, v in out.items() if v is not None}
        if self._ATTRIBUTES:
            out["Attributes"] = {
                f: getattr(self, a)
                for a, f in self._ATTRIBUTES.items()
                if getattr(self, a) is not None
            }
        return out

    def __repr__(self) -> str:
        me: Any = self
        return (
            f"<{self.record_type} UsageRecord: resource={me.resource} "
            f"local_record_id={me.local_record_id}>"
        )


def _unwrap(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


_COMMON = {
    "username": "Username",
    "local_project_id": "LocalProjectID",
    "local_record_id": "LocalRecordID",
    "resource": "Resource",
    "charge": "Charge",
    "local_reference": "LocalReference",
}


class ComputeUsageRecord(UsageRecord):
    """A job's compute usage; time is EndTime."""

    record_type = "Compute"
    _FIELDS: ClassVar[dict[str, str]] = {
        **_COMMON,
        "submit_time": "SubmitTime",
        "start_time": "StartTime",
        "end_time": "EndTime",
        "parent_record_id": "ParentRecordID",
    }
    _ATTRIBUTES: ClassVar[dict[str, str]] = {
        "node_count": "NodeCount",
        "cpu_core_count": "CpuCoreCount",
        "job_name": "JobName",
        "memory": "Memory",
        "queue": "Queue",
    }

    def __init__(
        self,
        *,
        charge: Any,
        end_time: Any,
        local_project_id: str,
        local_record_id: str,
        resource: str,
        start_time: Any,
        submit_time: Any,
        username: str,
        node_count: Any,
        parent_record_id: Any = None,
        queue: str | None = None,
        cpu_core_count: Any = None,
        job_name: str | None = None,
        memory: Any = None,
        local_reference: str | None = None,
    ) -> None:
        super().__init__(**{k: v for k, v in locals().items() if k not in ("self", "__class__")})


class StorageUsageRecord(UsageRecord):
    """Storage in use at CollectionTime."""

    record_type = "Storage"
    _FIELDS: ClassVar[dict[str, str]] = {**_COMMON, "collection_time": "CollectionTime"}
    _ATTRIBUTES: ClassVar[dict[str, str]] = {
        "bytes_read": "BytesRead",
        "bytes_stored": "BytesStored",
        "bytes_written": "BytesWritten",
        "collection_interval": "CollectionInterval",
        "file_count": "FileCount",
        "files_read": "FilesRead",
        "files_written": "FilesWritten",
        "media_type": "MediaType",
        "system_copies": "SystemCopies",
        "user_copies": "UserCopies",
    }

    def __init__(
        self,
        charge: Any,
        collection_time: Any,
        local_project_id: str,
        local_record_id: str,
        resource: str,
        username: str,
        bytes_read: Any = None,
        bytes_stored: Any = None,
        bytes_written: Any = None,
        collection_interval: Any = None,
        file_count: Any = None,
        files_read: Any = None,
        files_written: Any = None,
        media_type: str | None = None,
        system_copies: Any = None,
        user_copies: Any = None,
        local_reference: str | None = None,
    ) -> None:
        super().__init__(**{k: v for k, v in locals().items() if k not in ("self", "__class__")})


class AdjustmentUsageRecord(UsageRecord):
    """A credit, refund or storage-credit (negative) or a debit, reservation or storage-debit."""

    record_type = "Adjustment"
    VALID_ADJUSTMENT_TYPES = (
        "credit",
        "refund",
        "storage-credit",
        "debit",
        "reservation",
        "storage-debit",
    )
    _FIELDS: ClassVar[dict[str, str]] = {
        **_COMMON,
        "adjustment_type": "AdjustmentType",
        "start_time": "StartTime",
        "comment": "Comment",
    }

    def __init__(
        self,
        adjustment_type: str,
        charge: Any,
        start_time: Any,
        local_project_id: str,
        local_record_id: str,
        resource: str,
        username: str,
        comment: str | None = None,
        local_reference: str | None = None,
    ) -> None:
        kind = str(adjustment_type).lower()
        if kind not in self.VALID_ADJUSTMENT_TYPES:
            raise ValueError(
                f"Adjustment type {kind!r} invalid, must be one of {self.VALID_ADJUSTMENT_TYPES}"
            )
        values = {k: v for k, v in locals().items() if k not in ("self", "__class__", "kind")}
        super().__init__(**{**values, "adjustment_type": kind})


RECORD_CLASSES: dict[str, type[UsageRecord]] = {
    "Compute": ComputeUsageRecord,
    "Storage": StorageUsageRecord,
    "Adjustment": AdjustmentUsageRecord,
}


def record_class(usage_type: Any) -> type[UsageRecord]:
    found = RECORD_CLASSES.get(str(usage_type).capitalize())
    if found is None:
        raise UsageRecordException(f"Invalid usage type {usage_type}")
    return found


class UsageMessage(_Printable):
    """Records of one usage type, as sent in one request."""

    def __init__(self, records: Sequence[UsageRecord]) -> None:
        items = list(records)
        if any(not isinstance(r, UsageRecord) for r in items):
            raise UsageMessageException("Can't add something that isn't a UsageRecord")
        if len({r.record_type for r in items}) > 1:
            raise UsageMessageException("Cannot create a UsageMessage with mixed types")
        self.records = items

    @property
    def usage_type(self) -> str | None:
        return self.records[0].record_type if self.records else None

    @classmethod
    def from_dict(cls, input_dict: Mapping[str, Any]) -> UsageMessage:
        kind = input_dict.get("UsageType")
        records = input_dict.get("Records") or []
        if kind is None and records:
            kind = records[0].get("UsageType")
        return cls([record_class(kind).from_dict(d) for d in records])

    @classmethod
    def from_json(cls, input_json: str) -> UsageMessage:
        return cls.from_dict(json.loads(input_json))

    def as_dict(self) -> dict[str, Any]:
        return {"UsageType": self.usage_type, "Records": [r.as_dict() for r in self.records]}

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[UsageRecord]:
        return iter(self.records)

    def __repr__(self) -> str:
        return f"<UsageMessage: {self.usage_type} type, length {len(self)}>"


class UsageRecordError(_Printable):
    """A record the server refused (validation) or could not process, with the reason."""

    def __init__(
        self,
        error: str,
        record: UsageRecord | None,
        failed_record_id: int | None = None,
        raw: Mapping[str, Any] | None = None,
        usage_type: str | None = None,
    ) -> None:
        self.error = error
        self.record = record
        self.failed_record_id = failed_record_id
        self.raw = dict(raw or {})
        self.usage_type = usage_type or (record.record_type if record else None)

    @classmethod
    def from_dict(cls, input_dict: Mapping[str, Any]) -> UsageRecordError:
        raw = {k: v for k, v in input_dict.items() if k not in ("Error", "FailedRecordID")}
        record: UsageRecord | None
        try:
            record = record_class(raw.get("UsageType")).from_dict(raw)
        except (UsageRecordException, ValueError, TypeError, AttributeError):
            record = None  # a malformed record comes back as sent, in `raw`
        return cls(
            str(input_dict.get("Error")),
            record,
            input_dict.get("FailedRecordID"),
            raw,
            raw.get("UsageType"),
        )

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.raw) if self.record is None else self.record.as_dict()
        out.update(UsageType=self.usage_type, Error=self.error)
        if self.failed_record_id is not None:
            out["FailedRecordID"] = self.failed_record_id
        return out

    def __repr__(self) -> str:
        more = f" failed_record_id={self.failed_record_id}" if self.failed_record_id else ""
        return f"<{self.usage_type} UsageRecordError: {self.error}{more}>"


class UsageMessageError(_Printable):
    """In a status: failed records of one usage type sharing one error."""

    def __init__(self, error: str, message: UsageMessage) -> None:
        self.error = error
        self.message = message

    @classmethod
    def from_dict(cls, input_dict: Mapping[str, Any]) -> UsageMessageError:
        return cls(str(input_dict.get("Error")), UsageMessage.from_dict(input_dict))

    def as_dict(self) -> dict[str, Any]:
        return {"Error": self.error, **self.message.as_dict()}

    def __repr__(self) -> str:
        return f"<UsageMessageError: {self.error}>"
