"""Writing a streamed CSV export to its destination, with flat memory."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from usagekit.errors import TransportError


class Sink:
    """A path (opened, written, closed) or a caller's binary file; counts CSV rows."""

    def __init__(self, dest: str | Path | IO[bytes]) -> None:
        self._owned = isinstance(dest, str | Path)
        self._file: IO[bytes] = open(dest, "wb") if isinstance(dest, str | Path) else dest  # noqa: SIM115
        self._newlines = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._newlines += chunk.count(b"\n")

    @property
    def rows(self) -> int:
        """Rows after the header (event data is JSON, so it holds no raw newline)."""
        return max(0, self._newlines - 1)

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owned:
            self._file.close()
        else:
            self._file.flush()


def broken_stream(exc: httpx.TransportError) -> TransportError:
    return TransportError(f"the export stream broke off: {type(exc).__name__}: {exc}")
