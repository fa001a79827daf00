"""Errors the store raises about the data it holds (faults of the database itself are
classified in services.faults). Services and the server never see SQLAlchemy's."""

from __future__ import annotations


class StoreError(Exception):
    """A write the data refuses; `param` names the field at fault, as the caller sent it."""

    code = "error"

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def __reduce__(self) -> tuple[type[StoreError], tuple[str, str | None]]:
        # Crosses the writer process boundary with its param intact.
        return (type(self), (self.message, self.param))


class AlreadyExists(StoreError):
    """A row with that unique name is already stored (a meter slug, a tenant, a key)."""

    code = "conflict"
