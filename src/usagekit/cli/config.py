"""`usagekit config`: the settings `usagekit serve` would run with, and where each came from."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import typer

from usagekit.cli.common import Format, app, render
from usagekit.cli.server import _settings, serve
from usagekit.server.settings import INTERNAL, SECRETS, Settings, env_name, flag_name, mask_db

COLUMNS = ["setting", "value", "source"]  # JSON adds each one's flag and env


def show_config(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    config: str | None = None,
    **flags: Any,
) -> None:
    """Print the settings `usagekit serve` would run with (given the same options, the
    environment and the config file), each with its source; secrets are masked."""
    settings = _settings("config", flags, config)
    render(rows(settings), COLUMNS, fmt, title=f"settings (config file: {settings.config_file})")


def rows(settings: Settings) -> list[dict[str, Any]]:
    """One row per setting: its value (masked if secret), source, flag and variable."""
    found = []
    for name in Settings.model_fields:
        if name in INTERNAL:
            continue
        value = getattr(settings, name)
        if name in SECRETS and value is not None:
            value = "*** (set)"
        elif name == "db":
            value = mask_db(value)
        elif value is not None:
            value = str(value)
        source = settings.source(name)
        found.append(
            {
                "setting": name,
                "value": value,
                "source": f"file {settings.config_file}" if source == "file" else source,
                "flag": flag_name(name) or "",
                "env": env_name(name),
            }
        )
    return found


# The same options as `serve` (so their effect can be seen), plus --format.
_serve = inspect.signature(serve, eval_str=True)
_format = inspect.signature(show_config, eval_str=True).parameters["fmt"]
show_config.__signature__ = _serve.replace(  # type: ignore[attr-defined]
    parameters=[_format, *_serve.parameters.values()]
)
app.command("config")(show_config)
