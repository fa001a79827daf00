"""Structured logs on a real `usagekit serve`: one JSON (or logfmt) line per request with
the request id its response echoed, uvicorn's lines in the same format, errors as one
field, and inbound request ids kept only when they are safe to log."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.responses import StreamingResponse
from starlette.testclient import TestClient

from tests.conftest import ADMIN_KEY
from tests.fault_kit import T0
from tests.live import serve
from usagekit.server.app import create_app
from usagekit.server.settings import Settings
from usagekit.services.logs import Formatter

REQUEST_FIELDS = {"time", "level", "logger", "pid", "msg", "method", "route", "path"}
REQUEST_FIELDS |= {"status", "duration_ms", "bytes", "client", "request_id"}
GENERATED = re.compile(r"[0-9a-f]{24}")


def json_lines(log: str) -> list[dict[str, Any]]:
    """Every log line, parsed; only what `serve` prints itself (its banner, a new key's
    notice) is not a log record."""
    lines = [line for line in log.splitlines() if line]
    printed = [line for line in lines if not line.startswith("{")]
    assert not any(re.search(r"logger|level|Traceback", line) for line in printed), printed
    return [orjson.loads(line) for line in lines if line.startswith("{")]


def test_json_lines_one_per_request_with_the_echoed_id(db_url: str, tmp_path: Path) -> None:
    sent: dict[str, tuple[str, str, int]] = {}  # request id -> (method, route, status)
    with serve(db_url, tmp_path, "--log-format", "json", "--log-level", "info") as live:
        with live.client() as c:
            for i in range(5):
                rid = f"req-{i}.trace:{i}"
                events = [{"id": str(i), "type": "job", "subject": "s", "time": T0}]
                reply = c.post("/v1/events", json=events, headers={"X-Request-ID": rid})
                assert reply.status_code == 202 and reply.headers["x-request-id"] == rid
                sent[rid] = ("POST", "/v1/events", 202)
            reply = c.get("/v1/meters/missing")  # an error reply, with an id made here
            made = reply.headers["x-request-id"]
            assert reply.status_code == 404 and GENERATED.fullmatch(made)
            sent[made] = ("GET", "/v1/meters/{slug}", 404)
        reply = httpx.get(f"{live.url}/v1/meters", headers={"X-Request-ID": "no-key"})
        assert reply.status_code == 401 and reply.headers["x-request-id"] == "no-key"
        sent["no-key"] = ("GET", "/v1/meters", 401)
        log = live.log.read_text()
    lines = json_lines(log)
    requests = [line for line in lines if line["logger"] == "usagekit.access"]
    assert all(line.keys() >= REQUEST_FIELDS for line in requests)
    for rid, (method, route, status) in sent.items():
        [line] = [line for line in requests if line["request_id"] == rid]
        assert (line["method"], line["route"], line["status"]) == (method, route, status)
        assert line["bytes"] > 0 and line["duration_ms"] >= 0 and line["client"] == "127.0.0.1"
        if status != 401:
            assert line["key_id"].startswith("key_") and line["tenant_id"] == 1
        else:
            assert "key_id" not in line
    assert ADMIN_KEY not in log
    started = [line["msg"] for line in lines if line["logger"] == "uvicorn"]
    assert "Application startup complete." in started


HOSTILE = [
    "x" * 129,  # too long
    "abc\tdef",  # a control character
    "with space",
    "caf\xe9",  # not ASCII
]


def test_inbound_request_ids_are_kept_only_when_safe(tmp_path: Path) -> None:
    with serve(str(tmp_path / "u.db"), tmp_path, "--log-level", "info") as live:
        kept = "0af7651916cd43dd8448eb211c80319c"
        assert (
            httpx.get(f"{live.url}/healthz", headers={"X-Request-ID": kept}).headers["x-request-id"]
            == kept
        )
        replaced = []
        for hostile in HOSTILE:
            reply = httpx.get(
                f"{live.url}/healthz", headers={"X-Request-ID": hostile.encode("latin-1")}
            )
            assert reply.status_code == 200
            replaced.append(reply.headers["x-request-id"])
        log = live.log.read_text()
    assert all(GENERATED.fullmatch(rid) for rid in replaced)
    assert len(set(replaced)) == len(HOSTILE)
    for rid in [kept, *replaced]:
        assert log.count(f"request_id={rid}") == 1
    assert "x" * 129 not in log and "with space" not in log


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The server's log lines as `--log-format json` writes them."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(Formatter("json"))
    logger = logging.getLogger("usagekit")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_server_error_is_one_line_with_its_traceback_as_a_field(
    settings: Settings, captured: io.StringIO
) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom\nsecond line")

    with TestClient(app, raise_server_exceptions=False) as client:
        reply = client.get("/boom", headers={"X-Request-ID": "trace-500"})
    assert reply.status_code == 500
    assert reply.json()["error"]["code"] == "internal_error"
    assert reply.headers["x-request-id"] == "trace-500"
    [line] = [orjson.loads(text) for text in captured.getvalue().splitlines()]
    assert (line["logger"], line["level"], line["status"]) == ("usagekit.access", "error", 500)
    assert line["request_id"] == "trace-500" and line["route"] == "/boom"
    assert "Traceback" in line["exc"] and "RuntimeError: boom\nsecond line" in line["exc"]


def test_logfmt_quotes_and_escapes_so_a_record_is_one_line() -> None:
    record = logging.LogRecord("usagekit.x", logging.WARNING, __file__, 1, "a\nb", None, None)
    record.fields = {"plain": "v1.2/x", "spaced": 'say "hi"', "n": 3, "none": None, "ok": True}
    line = Formatter("logfmt").format(record)
    assert "\n" not in line
    assert line.startswith("time=") and " level=warning logger=usagekit.x pid=" in line
    assert line.endswith(' msg="a\\nb" plain=v1.2/x spaced="say \\"hi\\"" n=3 ok=true')
    with pytest.raises(ValueError, match="logfmt or json"):
        Formatter("xml")


def test_an_error_after_the_answer_began_is_a_short_field(
    settings: Settings, captured: io.StringIO
) -> None:
    app = create_app(settings)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first,"
            raise RuntimeError("gone")

        return StreamingResponse(chunks())

    with TestClient(app, raise_server_exceptions=False) as client:
        reply = client.get("/stream")
    assert reply.status_code == 200 and reply.content == b"first,"
    [line] = [orjson.loads(text) for text in captured.getvalue().splitlines()]
    assert (line["level"], line["status"], line["bytes"]) == ("warning", 200, 6)
    assert line["error"] == "RuntimeError: gone" and "exc" not in line
