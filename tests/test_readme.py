"""README's first session and docs/sdk.md's examples, pasted in order against a fresh server.

The blocks are read from the files themselves, so an example that stops working
fails here; only the port is changed (the server runs on a free one).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.live import serve

ROOT = Path(__file__).resolve().parents[1]
README_KEY = "change-me-0123456789"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def blocks(text: str, lang: str) -> list[str]:
    return [body for kind, body in _FENCE.findall(text) if kind == lang]


def section(text: str, heading: str) -> str:
    """From `heading` to the next heading of the same level."""
    start = text.index(heading)
    level = heading.split(" ")[0]
    rest = text[start + len(heading) :]
    end = re.search(rf"^{level} ", rest, re.M)
    return rest[: end.start()] if end else rest


def python(code: str) -> str:
    """A Python block run by the environment's python, in the same shell session."""
    return f"\"$PYTHON\" - <<'PYTHON_BLOCK'\n{code}PYTHON_BLOCK\n"


def session_script() -> str:
    readme = section((ROOT / "README.md").read_text(), "## A first session")
    sdk = (ROOT / "docs" / "sdk.md").read_text()
    parts = [*blocks(readme, "bash"), *map(python, blocks(readme, "python"))]
    # docs/sdk.md's Python blocks are one session, as pasted into one interpreter
    parts += [*blocks(section(sdk, "## CLI"), "bash"), python("".join(blocks(sdk, "python")))]
    return "\n".join(parts)


def test_the_script_has_every_block() -> None:
    script = session_script()
    assert script.count("usagekit demo") == 1 and "cat > jobs.ndjson" in script
    assert 'c.query("cpu_time", start="2026-11-01"' in script
    assert "usagekit query ld.contexts" in script


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_first_session_pasted_in_order(tmp_path: Path) -> None:
    env_bin = str(Path(sys.executable).parent)
    with serve(
        str(tmp_path / "usagekit.db"), tmp_path, env={"USAGEKIT_BOOTSTRAP_KEY": README_KEY}
    ) as live:
        port = live.url.rsplit(":", 1)[1]
        script = re.sub(r"(localhost|127\.0\.0\.1):8200", rf"\1:{port}", session_script())
        work = tmp_path / "work"
        work.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("USAGEKIT_")}
        env.update(
            PATH=f"{env_bin}:{env['PATH']}",
            PYTHON=sys.executable,
            XDG_STATE_HOME=str(tmp_path / "state"),
            COLUMNS="160",
        )
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=840,
        )
        assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
        assert '"error"' not in done.stdout, done.stdout[-3000:]
        with httpx.Client(
            base_url=live.url, headers={"Authorization": f"Bearer {README_KEY}"}
        ) as api:
            gpu = api.get(
                "/v1/meters/cpu_time/query",
                params={"from": "2026-11-02T00:00:00Z", "to": "2026-11-04T00:00:00Z",
                        "filter[partition]": "gpu", "subject": ["alice", "bob"]},
            ).json()  # fmt: skip
            # job-1842 (voided by docs/sdk.md) is out; job-1843 from jobs.ndjson is in
            assert sum(p["value"] or 0 for p in gpu["data"]) == 7200
            listed = api.get("/v1/meters").json()
            slugs = {m["slug"] for m in listed}
            assert {"cpu_time", "peak_nodes", "ld.contexts"} <= slugs
            assert "elevate.cpu_time_ms" not in slugs  # it repeats cpu_time
    assert (work / "jobs.ndjson").exists() and (work / "events.csv").stat().st_size > 0
