"""Server settings, from `usagekit serve` options or the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    db: str = "usagekit.db"
    body_limit: int = 1024 * 1024
    rate_limit: float = 0.0  # requests per second per key; 0 turns it off
    rate_burst: int = 0  # bucket size; 0 means max(1, 2 * rate_limit)
    bootstrap_key: str | None = None
    synchronous: str = "FULL"
    key_cache_seconds: float = 2.0
    writer: str = "process"  # or "thread": all in one process (tests, embedding)
    # Admission control: ingest requests (and their body bytes) in flight per server
    # process, from reading the body until the writer answers; past either, 503.
    max_inflight: int = 64
    max_inflight_bytes: int = 16 * 1024 * 1024

    def as_env(self) -> dict[str, str]:
        """These settings as the variables from_env reads (for worker processes)."""
        env = {
            "USAGEKIT_DB": self.db,
            "USAGEKIT_BODY_LIMIT": str(self.body_limit),
            "USAGEKIT_RATE_LIMIT": str(self.rate_limit),
            "USAGEKIT_SQLITE_SYNCHRONOUS": self.synchronous,
            "USAGEKIT_WRITER": self.writer,
            "USAGEKIT_MAX_INFLIGHT": str(self.max_inflight),
            "USAGEKIT_MAX_INFLIGHT_BYTES": str(self.max_inflight_bytes),
        }
        if self.bootstrap_key:
            env["USAGEKIT_BOOTSTRAP_KEY"] = self.bootstrap_key
        return env

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "db": env.get("USAGEKIT_DB", cls.db),
            "body_limit": int(env.get("USAGEKIT_BODY_LIMIT", cls.body_limit)),
            "rate_limit": float(env.get("USAGEKIT_RATE_LIMIT", cls.rate_limit)),
            "bootstrap_key": env.get("USAGEKIT_BOOTSTRAP_KEY") or None,
            "synchronous": env.get("USAGEKIT_SQLITE_SYNCHRONOUS", cls.synchronous),
            "writer": env.get("USAGEKIT_WRITER", cls.writer),
            "max_inflight": int(env.get("USAGEKIT_MAX_INFLIGHT", cls.max_inflight)),
            "max_inflight_bytes": int(
                env.get("USAGEKIT_MAX_INFLIGHT_BYTES", cls.max_inflight_bytes)
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
