"""The AsyncClient against the real app in-process (httpx's ASGI transport), both backends."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from tests.client.test_sdk import START, daily_sums, jobs
from usagekit import AsyncClient
from usagekit.errors import NotFoundError, ValidationError

pytestmark = pytest.mark.anyio


async def test_every_operation_awaited(async_sdk: AsyncClient) -> None:
    c = async_sdk
    await c.create_meter(
        "cpu", "job", "sum", value_property="cpu_ms", dimensions={"project": "project"}
    )
    assert [m.slug for m in await c.meters() if m.profile is None] == ["cpu"]
    assert (await c.get_meter("cpu")).value_property == "cpu_ms"
    sent = jobs(300)
    result = await c.send([*sent, {"id": "bad"}], max_body_bytes=8192)
    assert (result.accepted, [r.index for r in result.rejected]) == (300, [300])
    assert result.requests > 1

    q = await c.query("cpu", START, START + timedelta(days=5), group_by=["project"])
    got = {(p.start.date(), p.group["project"]): p.value for p in q if p.value}
    assert got == {
        k: v for k, v in daily_sums(sent).items() if k[0] < (START + timedelta(days=5)).date()
    }
    summary = await c.summary(START, START + timedelta(days=30), group_by=["project"])
    assert summary.total("cpu") == sum(e["data"]["cpu_ms"] for e in sent)

    listed = [e.id async for e in c.events(page_size=64)]
    assert listed == [e["id"] for e in reversed(sent)]
    buf = io.BytesIO()
    assert await c.export(buf) == 300
    chunks = [chunk async for chunk in c.iter_export(end=START + timedelta(hours=1))]
    assert b"".join(chunks).count(b"\n") == 1 + sum(
        1 for e in sent if e["time"] < START + timedelta(hours=1)
    )

    voided = await c.void(["job-0"], source="slurm")
    assert voided.voided == ["job-0"]
    failures = [f async for f in c.failures()]
    assert [f.record for f in failures] == [{"id": "bad"}]
    assert not (await c.retry_failure(failures[0].id)).cleared
    await c.clear_failure(failures[0].id)
    assert [f async for f in c.failures()] == []

    tenant = await c.create_tenant("acme")
    assert "acme" in [t.name for t in await c.tenants()] and tenant.id
    key = await c.create_key("ingest", name="collector")
    assert key.role == "ingest" and key.id in [k.id for k in await c.api_keys()]
    await c.revoke_key(key.id)
    assert next(k for k in await c.api_keys() if k.id == key.id).revoked is not None
    await c.delete_meter("cpu")
    with pytest.raises(NotFoundError):
        await c.query("cpu")
    with pytest.raises(ValidationError):
        await c.summary(start="last tuesday")
    assert (await c.health())["status"] == "ok"
