"""Server settings: one model for every option of `usagekit serve`, checked when made.

`Settings.load` reads them, in this order of precedence: command-line flags,
USAGEKIT_* environment variables, an optional TOML file (`--config` or
USAGEKIT_CONFIG), then the defaults here. It remembers where each value came from
(`usagekit config` shows it) and names that place when a value is bad.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from usagekit.core import params
from usagekit.core.clock import SYSTEM_CLOCK, Clock, FixedClock
from usagekit.core.errors import ParamError
from usagekit.server.settings_errors import (
    NO_FLAG,
    SECRETS,
    SettingsError,
    describe,
    env_name,
    flag_name,
)

MIN_BODY_LIMIT = 1024  # below this not even a small batch or a key request fits
MAX_BODY_LIMIT = 1024**3  # bodies are held in memory whole
KEY_LENGTHS = (16, 512)  # what Admin.create_key and authenticate accept
CONFIG_ENV = "USAGEKIT_CONFIG"

Source = Literal["default", "file", "env", "flag"]
# Made by `serve` for its workers, never read from a file.
INTERNAL = frozenset({"rate_table"})

__all__ = [
    "KEY_LENGTHS",
    "NO_FLAG",
    "SECRETS",
    "Settings",
    "SettingsError",
    "check_key",
    "env_name",
    "flag_name",
]


class Settings(BaseSettings):
    """Every server option. `Settings(...)` takes values as given (plus defaults), and
    raises pydantic's ValidationError; `Settings.load` layers flags, environment and a
    config file, and raises SettingsError."""

    model_config = SettingsConfigDict(
        env_prefix="USAGEKIT_",
        env_ignore_empty=True,
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        validate_default=True,
    )

    db: str = Field(
        "usagekit.db",
        min_length=1,
        description="the database: a SQLite file, sqlite:///path or postgresql://user@host/db",
    )
    host: str = Field("127.0.0.1", min_length=1, description="interface to listen on")
    port: int = Field(8200, ge=0, le=65535, description="TCP port")
    workers: int = Field(
        1,
        ge=1,
        le=256,
        description="API processes sharing the port (each with its own writer)",
    )
    body_limit: int = Field(
        1024 * 1024,
        ge=MIN_BODY_LIMIT,
        le=MAX_BODY_LIMIT,
        description="largest request body in bytes, on every route; larger ones get 413",
    )
    rate_limit: float = Field(
        0.0, ge=0, le=1e9, description="requests per second per API key (429 beyond); 0 is off"
    )
    rate_burst: int = Field(
        0,
        ge=0,
        le=10**9,
        description="requests a key may send at once before rate_limit applies; "
        "0 means twice the rate (at least 1)",
    )
    auth_failure_limit: float = Field(
        1.0,
        ge=0,
        le=1e9,
        description="failed authentications per second per client address, in bursts of "
        "ten times that (at least 10); beyond, 429 for that address; 0 is off",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL", "EXTRA"] = Field(
        "FULL",
        description="SQLite durability: FULL fsyncs every commit; NORMAL survives a crash "
        "of the process, not a power cut",
    )
    writer: Literal["process", "thread"] = Field(
        "process",
        description="process: parse and write ingested events in a child process; "
        "thread: everything in one process (embedding, tests)",
    )
    max_inflight: int = Field(
        64,
        ge=1,
        le=10**6,
        description="ingest requests in flight per server process; more get 503",
    )
    max_inflight_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1,
        le=1024**4,
        description="bytes of ingest bodies in flight per server process; more get 503",
    )
    log_level: Literal["error", "warning", "info", "debug"] = Field(
        "info", description="least severe log messages written"
    )
    log_format: Literal["logfmt", "json"] = Field(
        "logfmt", description="log lines as logfmt or JSON"
    )
    metrics: bool = Field(True, description="serve Prometheus metrics at /metrics")
    forwarded_allow_ips: str | None = Field(
        None,
        description="proxy addresses (comma-separated, or *) whose X-Forwarded-For and "
        "X-Forwarded-Proto are trusted; unset: 127.0.0.1 (or uvicorn's FORWARDED_ALLOW_IPS)",
    )
    bootstrap_key: str | None = Field(
        None,
        description="the first admin key of tenant 'default' (else one is made and shown "
        "once); on a database with keys, added as an admin key if it is not one",
    )
    key_cache_seconds: float = Field(
        2.0, ge=0, le=3600, description="how long a key lookup is cached"
    )
    secret: str | None = Field(
        None, description="the server secret (32 characters or more); else secret_file's"
    )
    secret_file: str | None = Field(
        None,
        description="where the server secret is kept (made on first start); unset: "
        "next to a SQLite file, else ./usagekit.secret",
    )
    rate_table: str | None = Field(
        None, description="internal: the rate-limit table `serve` makes for its workers"
    )
    fixed_now: str | None = Field(
        None,
        description="serve as if it were always this instant (RFC 3339 or Unix ms): "
        "reproducible demos and tests; unset: the real clock",
    )

    webhook_timeout: float = Field(
        10.0,
        ge=0.1,
        le=300,
        description="seconds a webhook receiver has to answer; slower counts as a failed attempt",
    )
    webhook_first_retry: float = Field(
        5.0,
        ge=0.01,
        le=3600,
        description="seconds before a failed webhook delivery is first retried (plus up to "
        "half again, at random); each later wait doubles, up to 2 hours",
    )
    webhook_retry_for: float = Field(
        86400.0,
        ge=0.1,
        le=30 * 86400,
        description="seconds of retries a webhook delivery gets before it is marked failed",
    )
    webhook_retention_days: float = Field(
        30.0,
        gt=0,
        le=3650,
        description="days a webhook delivery and its attempts are kept after it was delivered "
        "(a failed one, or one waiting on a disabled endpoint: after its last attempt); "
        "the alerts themselves are kept",
    )
    webhook_allow_link_local: bool = Field(
        False,
        description="let webhooks reach link-local and cloud metadata addresses "
        "(169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200), refused otherwise; "
        "loopback and private networks are always allowed",
    )

    _sources: dict[str, Source] = PrivateAttr(default_factory=dict)
    _config_file: str | None = PrivateAttr(None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values given: reading the environment and the file is `load`'s."""
        return (init_settings,)

    @field_validator(
        "port", "workers", "body_limit", "rate_limit", "rate_burst", "auth_failure_limit",
        "max_inflight", "max_inflight_bytes", "key_cache_seconds", "webhook_timeout",
        "webhook_first_retry", "webhook_retry_for", "webhook_retention_days",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _no_booleans(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("not true or false")
        return value

    @field_validator("sqlite_synchronous", "log_level", mode="before")
    @classmethod
    def _any_case(cls, value: object, info: Any) -> object:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "sqlite_synchronous" else value.lower()

    @field_validator("bootstrap_key")
    @classmethod
    def _usable_key(cls, value: str | None) -> str | None:
        if value is not None:
            check_key(value, "")
        return value

    @field_validator("secret")
    @classmethod
    def _long_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("use at least 32 characters")
        return value

    @field_validator("fixed_now")
    @classmethod
    def _an_instant(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                params.instant(value, "fixed_now")
            except ParamError as exc:
                raise ValueError(str(exc).removeprefix("fixed_now: ")) from None
        return value

    def clock(self) -> Clock:
        """The server's clock: the real one, or frozen at fixed_now."""
        if self.fixed_now is None:
            return SYSTEM_CLOCK
        return FixedClock(params.instant(self.fixed_now, "fixed_now"))

    @property
    def synchronous(self) -> str:
        """SQLite's synchronous pragma (the store's name for sqlite_synchronous)."""
        return self.sqlite_synchronous

    @property
    def display_db(self) -> str:
        """The database, with any password in its URL masked (for messages)."""
        return mask_db(self.db)

    def source(self, name: str) -> Source:
        """Where the value of setting `name` came from."""
        return self._sources.get(name, "default")

    @property
    def config_file(self) -> str | None:
        """The TOML file these settings read, if any."""
        return self._config_file

    def replace(self, **changes: Any) -> Settings:
        """A checked copy with `changes` (from code: they count as flags)."""
        sources = self._sources | dict.fromkeys(changes, "flag")
        return _checked(type(self), self.model_dump() | changes, sources, self._config_file)

    def as_env(self) -> dict[str, str]:
        """Every setting as the variable `load` reads (for worker processes); the config
        file is not read again (its values are in these variables)."""
        env = {CONFIG_ENV: ""}
        for name, value in self.model_dump().items():
            env[env_name(name)] = _as_text(value)
        return env

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from USAGEKIT_* variables and USAGEKIT_CONFIG's file (what workers read)."""
        return cls.load()

    @classmethod
    def load(cls, flags: Mapping[str, object] | None = None, config: str | None = None) -> Settings:
        """Flags (None values skipped) over USAGEKIT_* variables over the TOML file `config`
        (else USAGEKIT_CONFIG's) over defaults; SettingsError names a bad value's place."""
        config = config or os.environ.get(CONFIG_ENV) or None
        layers: list[tuple[Source, dict[str, Any]]] = [
            ("file", read_config(config) if config else {}),
            ("env", _from_environment(cls)),
            ("flag", {k: v for k, v in (flags or {}).items() if v is not None}),
        ]
        values: dict[str, Any] = {}
        sources: dict[str, Source] = {}
        for source, layer in layers:
            values.update(layer)
            sources.update(dict.fromkeys(layer, source))
        return _checked(cls, values, sources, config)


def _checked(
    cls: type[Settings], values: dict[str, Any], sources: dict[str, Source], config: str | None
) -> Settings:
    try:
        made = cls(**values)
    except ValidationError as exc:
        raise SettingsError(describe(exc, cls, sources, config)) from None
    made._sources = sources
    made._config_file = config
    return made


def mask_db(db: str) -> str:
    """`db` with the password of a URL replaced by ***."""
    if "://" not in db:
        return db
    try:
        return make_url(db).render_as_string(hide_password=True)
    except ArgumentError:
        return db.split("://", 1)[0] + "://***"


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _from_environment(cls: type[Settings]) -> dict[str, Any]:
    """USAGEKIT_* variables of the settings (pydantic-settings' own reading), empty ones
    left out."""
    return dict(EnvSettingsSource(cls)())


def read_config(path: str) -> dict[str, Any]:
    """The settings in a TOML file; SettingsError if it cannot be read or has a key that
    is no setting."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise SettingsError(f"config file {path}: cannot read it ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"config file {path}: not valid TOML ({exc})") from None
    known = set(Settings.model_fields) - INTERNAL
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "`usagekit config` lists them"
            raise SettingsError(f"config file {path}: unknown setting {key!r}; {hint}")
    return data


def check_key(secret: str, name: str) -> None:
    """ValueError (SettingsError) unless `secret` can be sent and accepted as an API key."""
    lo, hi = KEY_LENGTHS
    prefix = f"{name}: " if name else ""
    if not lo <= len(secret) <= hi:
        raise SettingsError(
            f"{prefix}an API key must be {lo} to {hi} characters, not {len(secret)}"
        )
    if not secret.isascii() or not secret.isprintable() or " " in secret:
        raise SettingsError(f"{prefix}an API key must be printable ASCII without spaces")
