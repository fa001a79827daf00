"""Names of each setting (flag, environment variable, file key) and one-line messages for
bad values that name the place the value came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from annotated_types import Ge, Le
from pydantic import BaseModel, ValidationError

ENV_PREFIX = "USAGEKIT_"
# Kept off the command line (visible to every user in `ps`): environment or file only.
NO_FLAG = frozenset({"bootstrap_key", "secret", "rate_table"})
SECRETS = frozenset({"bootstrap_key", "secret"})


class SettingsError(ValueError):
    """A setting the server cannot run with; the message names it and says what fits."""


def env_name(setting: str) -> str:
    return ENV_PREFIX + setting.upper()


def flag_name(setting: str) -> str | None:
    return None if setting in NO_FLAG else "--" + setting.replace("_", "-")


def place(setting: str, source: str, config: str | None) -> str:
    """How to name the setting to someone who set it there: its file key, or its flag
    and variable."""
    if source == "file":
        return f"{setting} in {config}"
    flag = flag_name(setting)
    return f"{flag} ({env_name(setting)})" if flag else env_name(setting)


def describe(
    exc: ValidationError, model: type[BaseModel], sources: Mapping[str, str], config: str | None
) -> str:
    """The first problem of `exc` as one line: where the value came from, what fits."""
    error = exc.errors()[0]
    setting = str(error["loc"][0]) if error["loc"] else ""
    if setting not in model.model_fields:
        return f"unknown setting {setting!r}"
    where = place(setting, sources.get(setting, "default"), config)
    return f"{where}: {_problem(error, model, setting)}"


def _problem(error: Any, model: type[BaseModel], setting: str) -> str:
    kind, given = error["type"], error.get("input")
    shown = "" if setting in SECRETS else f", not {given!r}"
    field = model.model_fields[setting]
    if kind == "value_error" and field.annotation not in (int, float):
        return str(error["ctx"]["error"])
    if kind == "literal_error":
        return f"use {error['ctx']['expected'].replace(chr(39), '')}{shown}"
    if field.annotation in (int, float):
        whole = field.annotation is int
        number = "a whole number" if whole else "a number"
        lo = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
        hi = next((m.le for m in field.metadata if isinstance(m, Le)), None)
        span = f" from {_bound(lo, whole)} to {_bound(hi, whole)}" if lo is not None else ""
        return f"must be {number}{span}{shown}"
    return f"{error['msg'][0].lower()}{error['msg'][1:]}{shown}"


def _bound(value: Any, whole: bool) -> str:
    return str(int(value)) if whole else f"{value:g}"
