"""CSV export of raw events, page by page so memory stays flat whatever the size."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain

from usagekit.core.events import format_time, format_times
from usagekit.services.caller import Caller
from usagekit.store import Store

HEADER = "id,source,type,subject,time,data,voided_at\n"
_SPECIAL = re.compile(r'["\r\n]')
_ANY_SPECIAL = re.compile(r'[,"\r\n]')


def _cell(text: str) -> str:
    if "," in text or _SPECIAL.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def events_csv(
    store: Store,
    caller: Caller,
    lo: int | None = None,
    hi: int | None = None,
    type_: str | None = None,
) -> Iterator[bytes]:
    """RFC 4180 CSV of the caller's events (its subject's, if confined), a chunk per page.

    Works a page at a time, column-wise: one check decides whether any id,
    source, type or subject of the page needs quoting (they almost never do),
    and times are formatted in a batch.
    """
    yield HEADER.encode()
    for page in store.events.export_pages(caller.tenant_id, lo, hi, type_, caller.subject):
        eids, sources, types, subjects, times, datas, voided, _ = zip(*page, strict=True)
        if _ANY_SPECIAL.search("\x00".join(chain(eids, sources, types, subjects))):
            heads = [
                f"{_cell(a)},{_cell(b)},{_cell(c)},{_cell(d)}"
                for a, b, c, d in zip(eids, sources, types, subjects, strict=True)
            ]
        else:
            heads = [
                f"{a},{b},{c},{d}"
                for a, b, c, d in zip(eids, sources, types, subjects, strict=True)
            ]
        quoted = [data.replace('"', '""') for data in datas]
        lines = [
            f'{head},{stamp},"{data}",{format_time(void) if void else ""}\n'
            for head, stamp, data, void in zip(
                heads, format_times(times), quoted, voided, strict=True
            )
        ]
        yield "".join(lines).encode()
