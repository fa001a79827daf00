"""The server secret: kept outside the database, so signing keys cannot be read from it alone.

It comes from USAGEKIT_SECRET, or a file (mode 0600) made on first start: next to
a SQLite database (`usagekit.db.secret`), or `usagekit.secret` in the working
directory for PostgreSQL. Signing keys are derived from it with HMAC-SHA256 over
a purpose and per-tenant data, so a leaked key signs for one tenant only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from usagekit.server.settings import Settings, SettingsError
from usagekit.store.engine import normalise_url

log = logging.getLogger("usagekit.server")
MIN_LENGTH = 32


def secret_path(settings: Settings) -> Path:
    """Where the secret file is (or will be made) for these settings."""
    if settings.secret_file:
        return Path(settings.secret_file)
    url = make_url(normalise_url(settings.db))
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and database != ":memory:":
        return Path(database).with_name(Path(database).name + ".secret")
    return Path("usagekit.secret")


def server_secret(settings: Settings) -> bytes:
    """USAGEKIT_SECRET, else the secret file's text (made now if missing); SettingsError
    if it cannot be read or made."""
    if settings.secret:
        return settings.secret.encode()
    path = secret_path(settings)
    try:
        text = _read(path)
    except FileNotFoundError:
        text = _create(path)
    except OSError as exc:
        raise SettingsError(f"server secret {path}: cannot read it ({exc.strerror})") from None
    if len(text) < MIN_LENGTH:
        raise SettingsError(f"server secret {path}: holds under {MIN_LENGTH} characters")
    return text.encode()


def _read(path: Path) -> str:
    text = path.read_text().strip()
    if path.stat().st_mode & 0o077:
        log.warning("server secret %s is readable by other users; chmod 600 it", path)
    return text


def _create(path: Path) -> str:
    """Write a new random secret, unless another process wins the race (then read theirs)."""
    text = secrets.token_hex(32)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)  # never replaces a secret already there
        except FileExistsError:
            return _read(path)
        finally:
            temp.unlink()
    except OSError as exc:
        raise SettingsError(f"server secret {path}: cannot create it ({exc.strerror})") from None
    # Printed, not logged, like the first admin key: the operator must know it exists.
    note = "mode 0600; back it up apart from the database"
    print(f"usagekit: created server secret {path} ({note})", flush=True)
    return text


def derive(secret: bytes, purpose: str, *parts: str | int) -> bytes:
    """A 32-byte key for `purpose` and `parts` (tenant data); not invertible to `secret`."""
    message = "\0".join([f"usagekit/{purpose}/v1", *map(str, parts)]).encode()
    return hmac.new(secret, message, hashlib.sha256).digest()
