"""CSV export of raw events, page by page so memory stays flat whatever the size."""

from __future__ import annotations

import re
from collections.abc import Iterator

from usagekit.core.events import format_time
from usagekit.store import Store

HEADER = "id,source,type,subject,time,data,voided_at\n"
_SPECIAL = re.compile(r'["\r\n]')


def _cell(text: str) -> str:
    if "," in text or _SPECIAL.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def events_csv(
    store: Store,
    tenant_id: int,
    lo: int | None = None,
    hi: int | None = None,
    type_: str | None = None,
    subject: str | None = None,
) -> Iterator[bytes]:
    """RFC 4180 CSV, one chunk per database page; `data` is the event's JSON."""
    yield HEADER.encode()
    for page in store.events.export_pages(tenant_id, lo, hi, type_, subject):
        lines = []
        for eid, source, typ, subj, t, data, voided, _ in page:
            head = f"{eid},{source},{typ},{subj}"
            # One check for the common case: four plain fields, three commas.
            if head.count(",") != 3 or _SPECIAL.search(head):
                head = f"{_cell(eid)},{_cell(source)},{_cell(typ)},{_cell(subj)}"
            quoted = data.replace('"', '""')
            tail = format_time(voided) if voided else ""
            lines.append(f'{head},{format_time(t)},"{quoted}",{tail}\n')
        yield "".join(lines).encode()
