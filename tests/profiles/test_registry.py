"""A profile is one package: the rest of usagekit reads the registry, never a profile by name.

The static half reads every module's imports; the live half plugs a profile that
ships nowhere (a package in a temporary directory, added to the registry) into a
real app and checks that its presets, routes, error shape and writes all work.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ADMIN_KEY
from usagekit.profiles import PROFILES, REGISTRY

SRC = Path(__file__).resolve().parents[2] / "src" / "usagekit"
NAMES = {p.name for p in PROFILES}
# Above a profile's pure part: what its package __init__ (read by core) must not reach.
UPPER = (
    "usagekit.store",
    "usagekit.services",
    "usagekit.server",
    "usagekit.client",
    "usagekit.cli",
)


def module_of(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module a file imports (at any depth, functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_the_registry_lists_each_profile_package_once() -> None:
    packages = sorted(p.parent.name for p in (SRC / "profiles").glob("*/__init__.py"))
    assert sorted(REGISTRY) == [f"usagekit.profiles.{n}" for n in packages]
    assert sorted(NAMES) == packages == ["amie", "civis", "elevate", "geobox", "launchdarkly"]


def test_no_module_outside_the_profiles_names_one() -> None:
    """Adding a profile touches only its package and the registry line."""
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).parts
        if rel[0] == "profiles" or rel[0] == "compat":  # compat: the documented re-exports
            continue
        for name in imports(path):
            if name.startswith("usagekit.") and NAMES & set(name.split(".")):
                offenders.append(f"{module_of(path)} imports {name}")
    assert offenders == []


def test_profiles_are_independent_and_their_registry_side_is_pure() -> None:
    crossings, impure = [], []
    for name in NAMES:
        package = SRC / "profiles" / name
        others = {f"usagekit.profiles.{n}" for n in NAMES - {name}}
        for path in package.rglob("*.py"):
            for imported in imports(path):
                if any(imported == o or imported.startswith(o + ".") for o in others):
                    crossings.append(f"{module_of(path)} imports {imported}")
        # What reading the registry imports: the package __init__ and its own modules, onward.
        todo, seen = [package / "__init__.py"], set()
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            for imported in imports(path):
                if imported.startswith(UPPER):
                    impure.append(f"{module_of(path)} imports {imported}")
                own = imported.removeprefix(f"usagekit.profiles.{name}.")
                if own != imported and (package / f"{own}.py").exists():
                    todo.append(package / f"{own}.py")
    assert crossings == [] and impure == []


TOY = {
    "__init__.py": """
        from usagekit.core.meters import Aggregation, Meter
        from usagekit.profiles.base import Profile

        PROFILE = Profile(
            "toy",
            namespace="toy",
            presets=(Meter("toy.pings", "ping", Aggregation.COUNT, unit="pings"),),
            routes="toy.routes",
            writes="toy.service",
        )
    """,
    "service.py": """
        from usagekit.services.allowed_writes import write

        @write
        def record(store, caller, note):
            return {"tenant": caller.tenant_id, "note": note}
    """,
    "routes.py": """
        from typing import Annotated

        from fastapi import APIRouter, Depends, Request

        from usagekit.server.auth import Can, Principal, ctx, require
        from usagekit.server.profiles import Routes
        from usagekit.server.responses import JSON
        from toy.service import record

        router = APIRouter(prefix="/toy")
        Reader = Annotated[Principal, Depends(require(Can.READ))]

        @router.get("/ping")
        async def ping(request: Request, who: Reader, note: str = "hi"):
            return JSON(await ctx(request).writer.run(record, who.caller, note))

        def toy_error(request, status, message, param, headers):
            return JSON({"toy": {"status": status, "why": message}}, status, headers)

        ROUTES = Routes(router, (("/toy/", toy_error),))
    """,
}

DRIVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import usagekit.profiles as registry
from toy import PROFILE
registry.PROFILES = (*registry.PROFILES, PROFILE)  # the one registry line, in effect

from fastapi.testclient import TestClient
from usagekit.server.app import create_app
from usagekit.server.settings import Settings

settings = Settings(db=sys.argv[2], bootstrap_key=sys.argv[3], writer="thread",
                    key_cache_seconds=0, auth_failure_limit=0.0, secret="s" * 32)
with TestClient(create_app(settings)) as c:
    auth = {"Authorization": "Bearer " + sys.argv[3]}
    meters = c.get("/v1/meters?include_presets=true", headers=auth).json()
    pinged = c.get("/toy/ping", params={"note": "yo"}, headers=auth)
    anonymous = c.get("/toy/ping")
    missing = c.get("/toy/nowhere", headers=auth)
    taken = c.post("/v1/meters", headers=auth,
                   json={"slug": "toy.mine", "event_type": "x", "aggregation": "count"})
    print(json.dumps({
        "presets": [m for m in meters if m["slug"].startswith("toy.")],
        "ping": [pinged.status_code, pinged.json()],
        "anonymous": [anonymous.status_code, anonymous.json()],
        "missing": [missing.status_code, missing.json()],
        "taken": [taken.status_code, taken.json()["error"]["param"]],
        "documented": "/toy/ping" in c.get("/openapi.json").json()["paths"],
    }))
"""


def test_a_new_profile_plugs_in_through_its_package_alone(tmp_path: Path) -> None:
    package = tmp_path / "toy"
    package.mkdir()
    for name, text in TOY.items():
        (package / name).write_text(textwrap.dedent(text))
    run = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path), str(tmp_path / "db.sqlite"), ADMIN_KEY],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    [preset] = got["presets"]
    assert (preset["slug"], preset["profile"], preset["aggregation"]) == (
        "toy.pings",
        "toy",
        "count",
    )
    status, body = got["ping"]
    assert status == 200 and body["note"] == "yo" and isinstance(body["tenant"], int)
    assert got["anonymous"][0] == 401 and got["anonymous"][1]["toy"]["status"] == 401
    assert got["missing"][0] == 404 and set(got["missing"][1]) == {"toy"}
    assert got["taken"] == [400, "slug"]
    assert got["documented"] is False
