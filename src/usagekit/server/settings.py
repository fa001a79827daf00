"""Server settings, from `usagekit serve` options or the environment, checked when made."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields

MIN_BODY_LIMIT = 1024  # below this not even a small batch or a key request fits
MAX_BODY_LIMIT = 1024**3  # bodies are held in memory whole
KEY_LENGTHS = (16, 512)  # what Admin.create_key and authenticate accept

# Where each setting comes from, for messages: (option, environment variable).
SOURCES = {
    "db": ("--db", "USAGEKIT_DB"),
    "body_limit": ("--body-limit", "USAGEKIT_BODY_LIMIT"),
    "rate_limit": ("--rate-limit", "USAGEKIT_RATE_LIMIT"),
    "rate_burst": ("--rate-burst", "USAGEKIT_RATE_BURST"),
    "auth_failure_limit": ("--auth-failure-limit", "USAGEKIT_AUTH_FAILURE_LIMIT"),
    "bootstrap_key": ("", "USAGEKIT_BOOTSTRAP_KEY"),
    "synchronous": ("--sqlite-synchronous", "USAGEKIT_SQLITE_SYNCHRONOUS"),
    "key_cache_seconds": ("", "USAGEKIT_KEY_CACHE_SECONDS"),
    "writer": ("--writer", "USAGEKIT_WRITER"),
    "max_inflight": ("--max-inflight", "USAGEKIT_MAX_INFLIGHT"),
    "max_inflight_bytes": ("--max-inflight-bytes", "USAGEKIT_MAX_INFLIGHT_BYTES"),
    "rate_table": ("", "USAGEKIT_RATE_TABLE"),
    "secret": ("", "USAGEKIT_SECRET"),
    "secret_file": ("", "USAGEKIT_SECRET_FILE"),
    "log_format": ("--log-format", "USAGEKIT_LOG_FORMAT"),
    "metrics": ("--metrics/--no-metrics", "USAGEKIT_METRICS"),
}
LOG_FORMATS = ("logfmt", "json")
_BOOLS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLS |= {"0": False, "false": False, "no": False, "off": False}


class SettingsError(ValueError):
    """A setting the server cannot run with; the message names it and says what fits."""


def _name(setting: str) -> str:
    option, env = SOURCES[setting]
    return f"{option} ({env})" if option else env


@dataclass(frozen=True)
class Settings:
    db: str = "usagekit.db"
    body_limit: int = 1024 * 1024
    rate_limit: float = 0.0  # requests per second per key; 0 turns it off
    rate_burst: int = 0  # bucket size; 0 means max(1, 2 * rate_limit)
    # Failed authentications per second per client address; 0 turns it off.
    auth_failure_limit: float = 1.0
    bootstrap_key: str | None = None
    synchronous: str = "FULL"
    key_cache_seconds: float = 2.0
    writer: str = "process"  # or "thread": all in one process (tests, embedding)
    # Admission control: ingest requests (and their body bytes) in flight per server
    # process, from reading the body until the writer answers; past either, 503.
    max_inflight: int = 64
    max_inflight_bytes: int = 16 * 1024 * 1024
    rate_table: str | None = None  # a file the workers of one `usagekit serve` share
    secret: str | None = None  # the server secret itself, else read from secret_file
    secret_file: str | None = None  # default: next to a SQLite file, else ./usagekit.secret
    log_format: str = "logfmt"  # or "json": one object per line
    metrics: bool = True  # GET /metrics (Prometheus), unauthenticated, no tenant data

    def __post_init__(self) -> None:
        self._check_number("body_limit", MIN_BODY_LIMIT, MAX_BODY_LIMIT)
        self._check_number("rate_limit", 0, 1e9)
        self._check_number("rate_burst", 0, 1e9)
        self._check_number("auth_failure_limit", 0, 1e9)
        self._check_number("key_cache_seconds", 0, 3600)
        self._check_number("max_inflight", 1, 1e6)
        self._check_number("max_inflight_bytes", 1, 1024**4)
        if self.writer not in ("process", "thread"):
            raise SettingsError(f"{_name('writer')}: use process or thread, not {self.writer!r}")
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(
                f"{_name('log_format')}: use logfmt or json, not {self.log_format!r}"
            )
        if self.synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise SettingsError(
                f"{_name('synchronous')}: use FULL, NORMAL or EXTRA, not {self.synchronous!r}"
            )
        if self.bootstrap_key is not None:
            check_key(self.bootstrap_key, _name("bootstrap_key"))
        if self.secret is not None and len(self.secret) < 32:
            raise SettingsError(f"{_name('secret')}: use at least 32 characters")

    def _check_number(self, setting: str, lo: float, hi: float) -> None:
        value = getattr(self, setting)
        whole = any(f.name == setting and f.type == "int" for f in fields(self))
        kind = "a whole number" if whole else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{_name(setting)}: must be {kind}, not {value!r}")
        if not math.isfinite(value) or not lo <= value <= hi:
            raise SettingsError(
                f"{_name(setting)}: must be {kind} from {lo:g} to {hi:g}, not {value!r}"
            )

    def as_env(self) -> dict[str, str]:
        """These settings as the variables from_env reads (for worker processes)."""
        env = {
            "USAGEKIT_DB": self.db,
            "USAGEKIT_BODY_LIMIT": str(self.body_limit),
            "USAGEKIT_RATE_LIMIT": repr(self.rate_limit),
            "USAGEKIT_RATE_BURST": str(self.rate_burst),
            "USAGEKIT_AUTH_FAILURE_LIMIT": repr(self.auth_failure_limit),
            "USAGEKIT_KEY_CACHE_SECONDS": repr(self.key_cache_seconds),
            "USAGEKIT_SQLITE_SYNCHRONOUS": self.synchronous,
            "USAGEKIT_WRITER": self.writer,
            "USAGEKIT_MAX_INFLIGHT": str(self.max_inflight),
            "USAGEKIT_MAX_INFLIGHT_BYTES": str(self.max_inflight_bytes),
            "USAGEKIT_LOG_FORMAT": self.log_format,
            "USAGEKIT_METRICS": "1" if self.metrics else "0",
        }
        optional = {
            "USAGEKIT_BOOTSTRAP_KEY": self.bootstrap_key,
            "USAGEKIT_RATE_TABLE": self.rate_table,
            "USAGEKIT_SECRET": self.secret,
            "USAGEKIT_SECRET_FILE": self.secret_file,
        }
        return env | {k: v for k, v in optional.items() if v}

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from USAGEKIT_* variables (defaults where unset); SettingsError if bad."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = os.environ.get(SOURCES[f.name][1])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _parse(setting: str, kind: object, raw: str) -> object:
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return _BOOLS[raw.strip().lower()]
    except KeyError:
        raise SettingsError(f"{_name(setting)}: use 1 or 0 (true or false), not {raw!r}") from None
    except ValueError:
        what = "a whole number" if kind == "int" else "a number"
        raise SettingsError(f"{_name(setting)}: must be {what}, not {raw!r}") from None
    return raw


def check_key(secret: str, name: str) -> None:
    """SettingsError unless `secret` can be sent and accepted as an API key."""
    lo, hi = KEY_LENGTHS
    if not lo <= len(secret) <= hi:
        raise SettingsError(
            f"{name}: an API key must be {lo} to {hi} characters, not {len(secret)}"
        )
    if not secret.isascii() or not secret.isprintable() or " " in secret:
        raise SettingsError(f"{name}: an API key must be printable ASCII without spaces")
