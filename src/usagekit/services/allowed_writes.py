"""The allow-list of writes: functions the writer runs, registered with `@write`.

A write takes the store first and is a module-level function, so it pickles by
reference and the process writer's child receives the function itself. The
writer refuses any function not registered here, wherever it is defined.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from usagekit.store import Store

P = ParamSpec("P")
R = TypeVar("R")

_ALLOWED: dict[str, object] = {}


class NotAWrite(TypeError):
    """The writer was handed a function not registered with `@write`."""


def write(fn: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """Register a module-level function as a write; returns it unchanged."""
    qualname = getattr(fn, "__qualname__", "")
    if "." in qualname or "<" in qualname:
        raise TypeError(f"a write must be a module-level function, not {qualname!r}")
    _ALLOWED[_name(fn)] = fn
    return fn


def check_write(fn: object) -> None:
    """Raise NotAWrite unless `fn` itself is registered (a look-alike is not)."""
    if _ALLOWED.get(_name(fn)) is not fn:
        raise NotAWrite(f"{_name(fn)} is not registered as a write (see allowed_writes.write)")


def _name(fn: object) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
