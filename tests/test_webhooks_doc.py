"""docs/webhooks.md's verification snippet, run as it stands in the page against a delivery
signed by a real `usagekit serve`: it returns the alert, drops a repeat of the same
webhook-id, and refuses a changed body or another endpoint's secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import WebhookVerificationError

from tests.live import free_port, serve
from tests.test_webhooks_live import FAST, add_alerts, create
from tests.webhook_receiver import Receiver

PAGE = Path(__file__).resolve().parent.parent / "docs" / "webhooks.md"


def snippet() -> str:
    """The first python block of the page's "Verifying a delivery" section."""
    section = PAGE.read_text().split("## Verifying a delivery", 1)[1].split("\n## ", 1)[0]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_verification_snippet_verifies_a_real_delivery(module_db: str, tmp_path: Path) -> None:
    page: dict[str, Any] = {}
    exec(compile(snippet(), str(PAGE), "exec"), page)  # literally the page's code
    receiver = Receiver(free_port())
    receiver.start()
    try:
        with serve(module_db, tmp_path, *FAST) as live:
            hook = create(live, receiver.url)
            other = create(live, "http://127.0.0.1:9/other")
            [row] = add_alerts(module_db, 1, first=900)
            [got] = receiver.wait(lambda g: len(g) >= 1)
    finally:
        receiver.stop()
    headers = {name.title(): value for name, value in got.headers.items()}  # any case
    page["SECRET"] = hook["secret"]  # what the reader pastes in place of "whsec_..."
    alert = page["handle"](got.body, headers)
    assert alert is not None and alert["id"] == int(got.id.removeprefix("msg_"))
    assert (alert["type"], alert["limit"], alert["subject"]) == (
        row.type, row.limit_slug, row.subject
    )  # fmt: skip
    assert (alert["usage"], alert["threshold"]) == (row.usage, row.threshold)
    assert page["handle"](got.body, headers) is None  # a retry: same id, handled once
    with pytest.raises(WebhookVerificationError):
        page["handle"](got.body.replace(b"s900", b"s901"), headers)
    page["SECRET"] = other["secret"]
    with pytest.raises(WebhookVerificationError):
        page["handle"](got.body, headers)
    assert page["seen"] == {got.id}
