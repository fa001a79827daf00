"""How `usagekit serve` has uvicorn log: every line through services.logs' formatter,
uvicorn's access log off (server.observe writes one line per request instead)."""

from __future__ import annotations

from typing import Any

from usagekit.server.settings import SettingsError
from usagekit.services.logs import LEVELS, config


def uvicorn_logging(style: str, level: str) -> dict[str, Any]:
    """uvicorn.run's logging options for `style` (logfmt or json) at `level`."""
    name = level.lower()
    if name not in LEVELS:
        raise SettingsError(
            f"--log-level (USAGEKIT_LOG_LEVEL): use debug, info, warning or error, not {level!r}"
        )
    return {"log_config": config(style, name), "log_level": name, "access_log": False}
