"""Plain records passed between layers: tenants, keys, failures, stored events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    ADMIN = "admin"
    INGEST = "ingest"
    READ = "read"


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    name: str
    created_ms: int


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key's public side; the secret is never stored, only its hash."""

    id: str
    tenant_id: int
    tenant_name: str
    role: Role
    subject: str | None
    prefix: str
    created_ms: int
    revoked_ms: int | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    id: str
    source: str
    type: str
    subject: str
    time_ms: int
    data: dict[str, Any]
    received_ms: int
    voided_ms: int | None


@dataclass(frozen=True, slots=True)
class Failure:
    """A record that was rejected or could not be processed, kept verbatim."""

    id: int
    tenant_id: int
    received_ms: int
    error: str
    record: Any
    channel: str  # where it came in: "events" or a profile name
    subject: str | None = None  # whose record it is; None: not attributed to a subject


@dataclass(frozen=True, slots=True)
class NewFailure:
    error: str
    record: Any
    channel: str = "events"
    subject: str | None = None


def subject_of(record: Any, field: str = "subject") -> str | None:
    """The subject a kept record names in `field`, if it names one that could be stored."""
    found = record.get(field) if isinstance(record, dict) else None
    if not isinstance(found, str) or not 0 < len(found) <= 256 or "\x00" in found:
        return None
    return found if found.isprintable() or _encodable(found) else None


def _encodable(text: str) -> bool:
    """Whether a database text column can hold `text` (no lone surrogates)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
