"""The vendors' own clients, each installed from PyPI into its own virtual environment.

The clients' dependencies conflict with each other and with ours, so each gets a
venv (cached across runs under USAGEKIT_VENDOR_VENVS, default
~/.cache/usagekit/vendor-venvs) and runs a script of ours from tests/profiles/scripts
that prints JSON on stdout.

The versions are pinned here, in VENDORS. `.ci/run` makes every venv before the
tests (`python -m tests.profiles.vendor --install`); a test whose venv is missing
makes it itself, so a test run reaches the package index only when a pin changes.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

SCRIPTS = Path(__file__).parent / "scripts"
ROOT = Path(
    os.environ.get("USAGEKIT_VENDOR_VENVS", Path.home() / ".cache" / "usagekit" / "vendor-venvs")
)
# The client each profile is tested with: exact versions (see docs/profiles/*.md).
VENDORS: dict[str, tuple[str, ...]] = {
    "amie": ("amieclient==0.4.0",),
    "civis": ("civis==2.10.1",),
    "elevate": ("earnix-elevate==0.90.0",),
    # with two of geobox's own dependencies, at the versions it was tested with
    "geobox": ("geobox==2.11.0", "tqdm==4.70.1", "aiohttp==3.14.5"),
    "launchdarkly": ("launchdarkly-api==25.0.1",),
}


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (test runs in parallel on one machine)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def vendor_python(name: str) -> Path:
    """The python of the venv holding VENDORS[name], made on first use."""
    requirements = VENDORS[name]
    digest = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()[:12]
    target = ROOT / f"{name}-{digest}"
    python = target / "bin" / "python"
    ready = target / ".ready"
    if ready.exists():
        return python
    with file_lock(ROOT / f"{name}.lock"):
        if not ready.exists():
            shutil.rmtree(target, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
            done = subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    *requirements,
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                raise RuntimeError(f"pip install {' '.join(requirements)} failed:\n{done.stderr}")
            ready.write_text("\n".join(requirements))
    return python


def run_script(
    python: Path, script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> Any:
    """Run scripts/<script> with the vendor's python; its stdout is one JSON document."""
    done = subprocess.run(
        [str(python), str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"{script} failed ({done.returncode}):\n{done.stderr}\n{done.stdout}")
    return orjson.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description="Make the vendors' client venvs.")
    parser.add_argument("--install", action="store_true", help="make every missing venv")
    if not parser.parse_args().install:
        parser.error("nothing to do: pass --install")
    with ThreadPoolExecutor(len(VENDORS)) as pool:
        for name, python in zip(VENDORS, pool.map(vendor_python, VENDORS), strict=True):
            print(f"{name}: {python}")


if __name__ == "__main__":
    main()
