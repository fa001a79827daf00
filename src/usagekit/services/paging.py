"""A page of a newest-first listing: its rows, and whether more follow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    more: bool

    @classmethod
    def cut(cls, rows: list[T], limit: int) -> Page[T]:
        """`rows` as read with one past `limit`: that extra row only says more follow."""
        return cls(rows[:limit], len(rows) > limit)
