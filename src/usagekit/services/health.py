"""Readiness: whether the database answers."""

from __future__ import annotations

from dataclasses import dataclass

from usagekit.store import Store


@dataclass(frozen=True, slots=True)
class Health:
    backend: str
    error: str | None = None  # the kind of failure (never its text: it may hold SQL)

    @property
    def ok(self) -> bool:
        return self.error is None


def check(store: Store) -> Health:
    """One round trip to the database; any failure of it means not ready."""
    try:
        store.ping()
    except Exception as exc:  # any database failure means "not healthy"
        return Health(store.backend, type(exc).__name__)
    return Health(store.backend)
