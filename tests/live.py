"""Start a real `usagekit serve` (uvicorn, writer process) in a subprocess for wire-level tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import ADMIN_KEY

USAGEKIT = str(Path(sys.executable).with_name("usagekit"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Live:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, key: str = ADMIN_KEY, timeout: float = 30) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@contextmanager
def serve(
    db: str,
    tmp: Path,
    *args: str,
    port: int | None = None,
    new_session: bool = False,
    env: dict[str, str] | None = None,
) -> Iterator[Live]:
    """Run the server until the block ends (or it is killed inside it).

    `new_session` makes it the leader of its own process group, for signals to the group;
    `env` adds to (or overrides) the environment, which has USAGEKIT_BOOTSTRAP_KEY=ADMIN_KEY.
    """
    port = port or free_port()
    log = tmp / f"serve-{port}.log"
    env = {**os.environ, "USAGEKIT_BOOTSTRAP_KEY": ADMIN_KEY, **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [USAGEKIT, "serve", "--db", db, "--port", str(port), "--log-level", "warning", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp,
            start_new_session=new_session,
        )
    live = Live(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()}")
            try:
                if httpx.get(f"{live.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()}")
            time.sleep(0.1)
        yield live
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
