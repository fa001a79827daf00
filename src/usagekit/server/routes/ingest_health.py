"""GET /v1/ingestion: what ingest did with the records it was sent (ingestion health)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from usagekit.core.events import format_time
from usagekit.server.auth import Can, Principal, ctx, require
from usagekit.server.responses import JSON
from usagekit.server.routes.common import in_thread
from usagekit.services.ingest_health import Counts, hour_range, ingestion

router = APIRouter(tags=["events"])


class IngestionHour(BaseModel):
    start: str
    accepted: int
    duplicates: int
    conflicts: int
    rejected: int


class IngestionOut(BaseModel):
    from_: str
    to: str
    accepted: int
    duplicates: int
    conflicts: int
    rejected: int
    hours: list[IngestionHour]

    model_config = {"populate_by_name": True, "alias_generator": lambda n: n.rstrip("_")}


@router.get("/v1/ingestion", response_model=IngestionOut)
async def ingestion_health(
    request: Request,
    who: Annotated[Principal, Depends(require(Can.READ))],
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
) -> Response:
    """Records accepted, duplicate, conflicting and rejected per received hour (UTC).

    Default range: the current hour and the 23 before it. Tenant-wide, so a key
    bound to one subject may not read it.
    """
    lo, hi = hour_range(from_, to, ctx(request).clock)
    found = await in_thread(ingestion, ctx(request).store, who.caller, lo, hi)
    return JSON(
        {
            "from": format_time(found.start),
            "to": format_time(found.end),
            **counts_json(found.total),
            "hours": [{"start": format_time(h.start), **counts_json(h)} for h in found.hours],
        }
    )


def counts_json(c: Counts) -> dict[str, int]:
    return {
        "accepted": c.accepted,
        "duplicates": c.duplicates,
        "conflicts": c.conflicts,
        "rejected": c.rejected,
    }
