"""The one error type core raises for bad input: it names the parameter to fix."""

from __future__ import annotations


class ParamError(ValueError):
    """Bad input; `param` names the field or query parameter at fault."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param

    def __reduce__(self) -> tuple[type[ParamError], tuple[str, str]]:
        # Crosses the writer process boundary with its param intact.
        return (type(self), (str(self), self.param))
