"""Routes (native and profile) reach the store only through services: they parse, authorise,
call a service and serialise. (The import-linter contracts check the layers; this checks
what they cannot: a route reaching through the context's store into a repository.)"""

from __future__ import annotations

import ast
from pathlib import Path

import usagekit.profiles
import usagekit.server.routes
import usagekit.services

ROUTES = Path(usagekit.server.routes.__file__).parent
SERVICES = Path(usagekit.services.__file__).parent
PROFILES = Path(usagekit.profiles.__file__).parent


def store_reaches(path: Path) -> list[str]:
    """Each `<anything>.store.<attribute>` use, SQL import or store import, as line: text."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "store"
        ):
            found.append(f"{node.lineno}: .store.{node.attr}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "store":
                found.append(f"{node.lineno}: store.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(("sqlalchemy", "usagekit.store")):
                found.append(f"{node.lineno}: from {node.module} import")
        elif isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {a.name}"
                for a in node.names
                if a.name.startswith(("sqlalchemy", "usagekit.store"))
            ]
    return found


def test_no_native_route_reaches_into_the_store() -> None:
    modules = sorted(ROUTES.glob("*.py"))
    assert len(modules) >= 7
    reaches = {p.name: store_reaches(p) for p in modules}
    assert {name: found for name, found in reaches.items() if found} == {}


def test_no_profile_route_reaches_into_the_store() -> None:
    modules = sorted(PROFILES.glob("*/*routes*.py"))
    assert len(modules) >= 6  # five profiles, and AMIE's registry routes
    reaches = {str(p.relative_to(PROFILES)): store_reaches(p) for p in modules}
    assert {name: found for name, found in reaches.items() if found} == {}


def test_the_check_sees_a_reach_into_the_store(tmp_path: Path) -> None:
    route = tmp_path / "route.py"
    route.write_text(
        "from sqlalchemy import text\n"
        "def f(request, store):\n"
        "    ctx(request).store.meters.get(1, 'a')\n"
        "    store.accounts.list_tenants()\n"
        "    return in_thread(g, ctx(request).store)\n"
    )
    assert store_reaches(route) == [
        "1: from sqlalchemy import",
        "3: .store.meters",
        "4: store.accounts",
    ]


def test_services_return_typed_results_not_wire_dicts() -> None:
    """No service function (profiles aside) is declared to return a JSON-ish dict."""
    loose = []
    for path in sorted(SERVICES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
                returns = ast.unparse(node.returns)
                if "dict[str, Any]" in returns or "dict[str, object]" in returns:
                    loose.append(f"{path.name}:{node.lineno} {node.name} -> {returns}")
    assert loose == []
