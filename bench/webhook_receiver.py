"""A webhook receiver for the delivery benchmark: a bare ASGI app that uvicorn runs in a
process of its own. It counts POSTs and distinct webhook-ids (GET reads them, DELETE
resets them) and answers 200, after BENCH_RECEIVER_DELAY seconds if set. It imports
nothing of usagekit, so it serves any version under test.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson

from bench.common import ROOT

_IDS: set[str] = set()
_COUNT = [0]
_DELAY = float(os.environ.get("BENCH_RECEIVER_DELAY", "0"))


async def receiver(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """POST: keep the webhook-id, answer 200 (after BENCH_RECEIVER_DELAY s); GET: counts;
    DELETE: forget them."""
    if scope["type"] != "http":
        return
    if scope["method"] == "DELETE":
        _IDS.clear()
        _COUNT[0] = 0
    if scope["method"] in ("GET", "DELETE"):
        body = orjson.dumps({"requests": _COUNT[0], "ids": len(_IDS)})
    else:
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        headers = dict(scope["headers"])
        _IDS.add(headers.get(b"webhook-id", b"").decode())
        _COUNT[0] += 1
        if _DELAY:
            await asyncio.sleep(_DELAY)
        body = b"ok"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


@contextmanager
def receiving(port: int, delay: float) -> Iterator[str]:
    """A receiver process on `port`; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.webhook_receiver:receiver", "--port",
         str(port), "--lifespan", "off", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT.parent, env={**os.environ, "BENCH_RECEIVER_DELAY": str(delay)},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def counts(url: str) -> dict[str, int]:
    found: dict[str, int] = httpx.get(url, timeout=10).json()
    return found
