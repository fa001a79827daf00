"""usagekit: self-hosted usage metering. `usagekit.Client` / `usagekit.AsyncClient` are the SDK."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from usagekit.client import AsyncClient, Client

__all__ = ["AsyncClient", "Client", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so the server and CLI start without importing the SDK.
    if name in ("Client", "AsyncClient"):
        from usagekit import client

        return getattr(client, name)
    raise AttributeError(f"module 'usagekit' has no attribute {name!r}")
