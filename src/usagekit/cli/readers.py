"""Event files for `usagekit send`: NDJSON, JSON or CSV, read lazily with their byte position."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

FORMATS = ("ndjson", "json", "csv")
_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_CORE = ("id", "source", "type", "subject", "time")


def guess_format(name: str) -> str:
    """From the file name: .json, .csv, else NDJSON (also for stdin)."""
    lower = name.lower()
    if lower.endswith(".json"):
        return "json"
    if lower.endswith(".csv"):
        return "csv"
    return "ndjson"


@dataclass
class Broken:
    """A line that is not a record; reported beside the server's rejections."""

    line: int
    error: str
    text: str


@dataclass
class EventReader:
    """Records from a binary file; `position` is the bytes consumed so far, for progress."""

    source: IO[bytes]
    fmt: str
    position: int = 0
    broken: list[Broken] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the file line of each record yielded

    def __iter__(self) -> Iterator[Any]:
        if self.fmt == "json":
            return self._json()
        if self.fmt == "csv":
            return self._csv()
        return self._ndjson()

    def _ndjson(self) -> Iterator[Any]:
        for number, raw in enumerate(self.source, start=1):
            self.position += len(raw)
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                text = raw.decode("utf-8", "replace").rstrip("\n")
                self.broken.append(Broken(number, f"not valid JSON: {exc.msg}", text))
                continue
            self.lines.append(number)
            yield record

    def _json(self) -> Iterator[Any]:
        data = self.source.read()
        self.position = len(data)
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            self.broken.append(Broken(exc.lineno, f"not valid JSON: {exc.msg}", ""))
            return
        if isinstance(doc, dict):
            doc = doc.get("events", [doc])
        if not isinstance(doc, list):
            self.broken.append(Broken(1, 'expected an array of events or {"events": [...]}', ""))
            return
        for record in doc:
            self.lines.append(0)
            yield record

    def _csv(self) -> Iterator[Any]:
        """Columns id, source, type, subject, time, data (JSON) and data.<name> (one value each).

        This is also the format `usagekit export` writes (its voided_at column is ignored).
        """
        text = io.TextIOWrapper(self.source, encoding="utf-8", newline="")
        reader = csv.DictReader(text)
        for row in reader:
            number = reader.line_num
            self.position = self.source.tell() if self.source.seekable() else self.position
            try:
                record = _csv_record(row)
            except ValueError as exc:
                self.broken.append(
                    Broken(number, str(exc), ",".join(v or "" for v in row.values()))
                )
                continue
            self.lines.append(number)
            yield record
        text.detach()


def _csv_record(row: dict[str, str | None]) -> dict[str, Any]:
    record: dict[str, Any] = {k: row[k] for k in _CORE if row.get(k)}
    if "time" in record and str(record["time"]).isdigit():
        record["time"] = int(record["time"])
    data: dict[str, Any] = {}
    if row.get("data"):
        try:
            data = orjson.loads(row["data"] or "{}")
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"data: not valid JSON: {exc.msg}") from None
    for name, value in row.items():
        if name and name.startswith("data.") and value not in (None, ""):
            data[name[5:]] = orjson.loads(value) if _NUMBER.fullmatch(value) else value
    record["data"] = data
    return record


def open_input(path: str) -> tuple[IO[bytes], int | None]:
    """The file (or stdin for '-') and its size when known."""
    if path == "-":
        import sys

        return sys.stdin.buffer, None
    file = Path(path)
    return file.open("rb"), file.stat().st_size
