"""Both clients over real HTTP against a `usagekit serve` subprocess (uvicorn, writer process)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.test_sdk import START, jobs
from tests.conftest import ADMIN_KEY
from tests.live import Live, serve
from usagekit import AsyncClient, Client
from usagekit.errors import RateLimitError, TransportError


@pytest.fixture(scope="module")
def live(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A server whose body limit (64 KiB) is far below the SDK's default chunk (768 KiB)."""
    tmp = tmp_path_factory.mktemp("live")
    with serve(module_db, tmp, "--body-limit", str(64 * 1024)) as server:
        yield server


def test_send_adapts_to_a_smaller_server_body_limit(live: Live) -> None:
    events = jobs(3000, prefix="big")
    with Client(live.url, ADMIN_KEY) as c:
        c.create_meter("cpu_live", "job", "sum", value_property="cpu_ms")
        result = c.send(events)
        assert (result.accepted, result.rejected) == (3000, [])
        assert result.requests > 3000 * 100 // (64 * 1024)  # split after the first 413s
        total = c.summary(START, "2026-12-01T00:00:00Z").total("cpu_live")
        assert total == sum(e["data"]["cpu_ms"] for e in events)
        assert c.export(Path(live.log).with_name("out.csv")) == 3000


@pytest.mark.anyio
async def test_async_client_over_http_with_concurrent_senders(live: Live) -> None:
    batches = [jobs(400, prefix=f"a{k}") for k in range(4)]
    async with AsyncClient(live.url, ADMIN_KEY, max_body_bytes=16 * 1024) as c:
        results = await asyncio.gather(*(c.send(b) for b in batches))
        assert [r.accepted for r in results] == [400] * 4
        again = await c.send(batches[0])
        assert again.duplicates == 400
        ids = {e.id async for e in c.events(subject="user-3", page_size=100)}
        expected = {e["id"] for b in batches for e in b if e["subject"] == "user-3"}
        assert expected <= ids


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.slow
def test_rate_limited_server_is_waited_out(tmp_path: Path) -> None:
    """Against --rate-limit 5/s, twenty calls from two threads all succeed, none raise 429."""
    with serve(str(tmp_path / "rl.db"), tmp_path, "--rate-limit", "5") as server:
        errors: list[Exception] = []

        def work() -> None:
            with Client(server.url, ADMIN_KEY, max_retries=10, backoff=0.05) as c:
                for _ in range(10):
                    try:
                        c.meters()
                    except RateLimitError as exc:
                        errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with Client(server.url, ADMIN_KEY, max_retries=0) as impatient:
            outcomes = []
            for _ in range(20):
                try:
                    outcomes.append(impatient.meters())
                except RateLimitError as exc:
                    outcomes.append(exc)
        limited = [o for o in outcomes if isinstance(o, RateLimitError)]
        assert limited and all(e.retry_after and e.retry_after > 0 for e in limited)
    gone = Client(server.url, ADMIN_KEY, max_retries=1, backoff=0.01)
    with gone, pytest.raises(TransportError, match="ConnectError"):
        gone.meters()
