"""Per-tenant registry of known projects, resources and users (AMIE semantics)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, Engine, delete, insert, select

from usagekit.core.clock import Clock
from usagekit.store.schema import registry
from usagekit.store.util import chunks


class Registry:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.clock = clock
        self.engine = engine
        self.write_engine = engine.execution_options(immediate=True)

    def entries(self, tenant_id: int) -> dict[str, list[str]]:
        """kind -> sorted names; kinds without entries are absent."""
        r = registry.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(r.kind, r.name).where(r.tenant_id == tenant_id).order_by(r.kind, r.name)
            ).all()
        out: dict[str, list[str]] = {}
        for kind, name in rows:
            out.setdefault(kind, []).append(name)
        return out

    def add(self, tenant_id: int, kind: str, names: Iterable[str]) -> list[str]:
        """Register names of a kind; returns those that were new."""
        r = registry.c
        wanted = list(dict.fromkeys(names))
        with self.write_engine.begin() as conn:
            have: set[str] = set()
            for part in chunks(wanted, 500):
                have.update(
                    conn.execute(
                        select(r.name).where(
                            r.tenant_id == tenant_id, r.kind == kind, r.name.in_(part)
                        )
                    ).scalars()
                )
            new = [n for n in wanted if n not in have]
            stamp = self.clock.now_ms()
            if new:
                conn.execute(
                    insert(registry),
                    [{"tenant_id": tenant_id, "kind": kind, "name": n, "created_ms": stamp}
                     for n in new],
                )  # fmt: skip
        return new

    def remove(self, tenant_id: int, kind: str, names: Iterable[str]) -> int:
        r = registry.c
        removed = 0
        with self.write_engine.begin() as conn:
            for part in chunks(list(dict.fromkeys(names)), 500):
                removed += conn.execute(
                    delete(registry).where(
                        r.tenant_id == tenant_id, r.kind == kind, r.name.in_(part)
                    )
                ).rowcount
        return removed

    def lookup(
        self, tenant_id: int, wanted: Mapping[str, Iterable[str]]
    ) -> tuple[set[str], dict[str, set[str]]]:
        """(kinds with any entry, kind -> which of the wanted names are registered)."""
        with self.engine.connect() as conn:
            return self._lookup(conn, tenant_id, wanted)

    def _lookup(
        self, conn: Connection, tenant_id: int, wanted: Mapping[str, Iterable[str]]
    ) -> tuple[set[str], dict[str, set[str]]]:
        r = registry.c
        kinds = set(
            conn.execute(select(r.kind).where(r.tenant_id == tenant_id).distinct()).scalars()
        )
        known: dict[str, set[str]] = {kind: set() for kind in wanted}
        for kind, names in wanted.items():
            if kind not in kinds:
                continue
            for part in chunks(sorted(set(names)), 500):
                known[kind].update(
                    conn.execute(
                        select(r.name).where(
                            r.tenant_id == tenant_id, r.kind == kind, r.name.in_(part)
                        )
                    ).scalars()
                )
        return kinds, known
