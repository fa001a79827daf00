"""docs/operations.md lists every setting with its flag, variable, default and meaning, as
the settings model has them (run `python -m tests.settings_doc` after changing the model)."""

from __future__ import annotations

from tests.settings_doc import PAGE, current, table
from usagekit.server.settings import INTERNAL, Settings, env_name


def test_settings_table_matches_the_model() -> None:
    text = PAGE.read_text()
    assert current(text) == table(), "run: python -m tests.settings_doc"
    for name in set(Settings.model_fields) - INTERNAL:
        assert f"`{name}`" in text and f"`{env_name(name)}`" in text
