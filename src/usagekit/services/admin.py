"""Tenants, API keys (generation, hashing, lookup) and the first-start bootstrap."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.exc import IntegrityError

from usagekit.core.records import ApiKey, Role, Tenant
from usagekit.services.errors import Conflict, InvalidInput, NotFound
from usagekit.store import Store

DEFAULT_TENANT = "default"
KEY_PREFIX = "uk_"


def hash_key(key: str) -> str:
    """Keys are random and long, so one SHA-256 is the right hash (no slow KDF needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)


class Admin:
    def __init__(self, store: Store) -> None:
        self.store = store

    def authenticate(self, key: str) -> ApiKey | None:
        if not key or len(key) > 512:
            return None
        return self.store.accounts.key_by_hash(hash_key(key))

    def bootstrap(self, key: str | None) -> tuple[ApiKey, str] | None:
        """On a store with no keys: tenant `default` and an admin key (the given one, or new)."""
        if self.store.accounts.count_keys():
            return None
        tenant = self.store.accounts.tenant_by_name(DEFAULT_TENANT) or self.create_tenant(
            DEFAULT_TENANT
        )
        return self.create_key(tenant, Role.ADMIN, secret=key, name="bootstrap")

    def create_tenant(self, name: str) -> Tenant:
        name = name.strip()
        if not name or len(name) > 128:
            raise InvalidInput("name: 1 to 128 characters", "name")
        try:
            return self.store.accounts.create_tenant(name)
        except IntegrityError:
            raise Conflict(f"tenant {name!r} already exists", "name") from None

    def tenant(self, name: str) -> Tenant:
        tenant = self.store.accounts.tenant_by_name(name)
        if tenant is None:
            raise NotFound(f"no tenant named {name!r}", "tenant")
        return tenant

    def create_key(
        self,
        tenant: Tenant,
        role: Role,
        *,
        subject: str | None = None,
        secret: str | None = None,
        name: str | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key; the secret is returned once and only its hash is kept."""
        secret = secret or new_secret()
        if len(secret) < 16:
            raise InvalidInput("key: at least 16 characters", "key")
        if subject is not None and not 0 < len(subject) <= 256:
            raise InvalidInput("subject: 1 to 256 characters", "subject")
        key_id = "key_" + secrets.token_hex(8)
        try:
            key = self.store.accounts.create_key(
                key_id, tenant.id, role, hash_key(secret), secret[:8], subject=subject, name=name
            )
        except IntegrityError:
            raise Conflict("that key is already in use", "key") from None
        return key, secret
