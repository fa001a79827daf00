"""How `usagekit serve` has uvicorn log: every line through services.logs' formatter,
uvicorn's access log off (server.observe writes one line per request instead)."""

from __future__ import annotations

from typing import Any

from usagekit.server.settings import SettingsError
from usagekit.services.logs import LEVELS, Formatter


def uvicorn_logging(style: str, level: str) -> dict[str, Any]:
    """uvicorn.run's logging options for `style` (logfmt or json) at `level`."""
    name = level.lower()
    if name not in LEVELS:
        raise SettingsError(
            f"--log-level (USAGEKIT_LOG_LEVEL): use debug, info, warning or error, not {level!r}"
        )
    return {"log_config": _config(style, name), "log_level": name, "access_log": False}


def _config(style: str, level: str) -> dict[str, Any]:
    """The logging dictConfig for `style` at `level`, for uvicorn's loggers and ours."""
    handler = {"handlers": ["usagekit"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"usagekit": {"()": Formatter, "style": style}},
        "handlers": {
            "usagekit": {
                "class": "logging.StreamHandler",
                "formatter": "usagekit",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["usagekit"], "level": level.upper()},
        "loggers": {
            "uvicorn": handler,
            "uvicorn.error": {"level": level.upper(), "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # Alembic notes its dialect at every start; `usagekit migrate` reports upgrades.
            "alembic": {"level": "WARNING"},
        },
    }
