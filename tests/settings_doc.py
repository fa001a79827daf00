"""The settings table of docs/operations.md, made from the settings model.

`python -m tests.settings_doc` rewrites it in place; tests/test_settings_doc.py fails
when the page and the model differ.
"""

from __future__ import annotations

from pathlib import Path

from annotated_types import Ge, Le

from usagekit.server.settings import INTERNAL, Settings, env_name, flag_name

PAGE = Path(__file__).resolve().parents[1] / "docs" / "operations.md"
START = "<!-- settings table: made by tests/settings_doc.py -->"
END = "<!-- end of settings table -->"


def table() -> str:
    rows = [
        "| setting (TOML key) | flag | environment | default | what it does |",
        "|---|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        if name in INTERNAL:
            continue
        flag = "`--metrics` / `--no-metrics`" if name == "metrics" else flag_name(name)
        flag = flag if flag is None or flag.startswith("`") else f"`{flag}`"
        lo = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
        hi = next((m.le for m in field.metadata if isinstance(m, Le)), None)
        span = f" ({lo} to {hi})" if lo is not None else ""
        rows.append(
            f"| `{name}` | {flag or '(none)'} | `{env_name(name)}` | {toml(field.default)} | "
            f"{field.description}{span} |"
        )
    return "\n".join([START, *rows, END])


def toml(value: object) -> str:
    """A default as it is written in the TOML file (none when unset)."""
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f'`"{value}"`' if isinstance(value, str) else f"`{value}`"


def current(text: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def main() -> None:
    text = PAGE.read_text()
    PAGE.write_text(text.replace(current(text), table()))


if __name__ == "__main__":
    main()
