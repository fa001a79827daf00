"""Tenants, API keys (generation, hashing, lookup) and the first-start bootstrap."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from usagekit.core.records import ApiKey, Role, Tenant
from usagekit.services.allowed_writes import write
from usagekit.services.caller import DEFAULT_TENANT, Caller
from usagekit.services.errors import Conflict, InvalidInput, NotFound
from usagekit.services.presets import ensure_presets
from usagekit.store import Store

KEY_PREFIX = "uk_"


def hash_key(key: str) -> str:
    """Keys are random and long, so one SHA-256 is the right hash (no slow KDF needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)


class Outcome(StrEnum):
    CREATED = "created"  # the first key of a new store
    ADDED = "added"  # a bootstrap key given to a store where it was not a live admin key
    TAKEN = "taken"  # the bootstrap key is another key's secret, or a revoked one's


@dataclass(frozen=True, slots=True)
class Bootstrapped:
    """What bootstrap did: `secret` is the key itself (shown once if it was generated)."""

    key: ApiKey
    secret: str
    outcome: Outcome


class Admin:
    def __init__(self, store: Store) -> None:
        self.store = store

    def authenticate(self, key: str) -> ApiKey | None:
        if not key or len(key) > 512:
            return None
        return self.store.accounts.key_by_hash(hash_key(key))

    def bootstrap(self, key: str | None) -> Bootstrapped | None:
        """Make sure tenant `default` can be administered; None when nothing was to do.

        A store with no keys gets tenant `default` and an admin key (`key`, or new).
        On a store with keys, a given `key` that is not a live admin key of `default`
        is added as one: how access is regained when every admin secret is lost.
        A revoked key, or another tenant's or role's, is never turned into it (TAKEN).
        """
        accounts = self.store.accounts
        first = not accounts.count_keys()
        if not first and key is None:
            return None
        if key is not None:
            known = accounts.key_by_hash(hash_key(key), live=False)
            if known is not None:
                if Caller.of(known).superadmin and known.revoked_ms is None:
                    return None
                return Bootstrapped(known, key, Outcome.TAKEN)
        tenant = accounts.tenant_by_name(DEFAULT_TENANT) or self.create_tenant(DEFAULT_TENANT)
        made, secret = self.create_key(tenant, Role.ADMIN, secret=key, name="bootstrap")
        return Bootstrapped(made, secret, Outcome.CREATED if first else Outcome.ADDED)

    def revoke_key(self, tenant_id: int, key_id: str) -> bool:
        """Revoke a live key (False if there is none); Conflict for the last live admin
        key of `default`, whose admins alone can make keys for every tenant."""
        done = self.store.accounts.revoke_key(tenant_id, key_id, keep_admin_of=DEFAULT_TENANT)
        if done is None:
            raise Conflict(
                f"{key_id} is the last live admin key of tenant {DEFAULT_TENANT!r}: "
                "create another admin key first",
                "key_id",
            )
        return done

    def create_tenant(self, name: str) -> Tenant:
        name = name.strip()
        if not name or len(name) > 128:
            raise InvalidInput("name: 1 to 128 characters", "name")
        return self.store.accounts.create_tenant(name)

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
        key = self.store.accounts.create_key(
            key_id, tenant.id, role, hash_key(secret), secret[:8], subject=subject, name=name
        )
        return key, secret


def list_tenants(store: Store, caller: Caller) -> list[Tenant]:
    """Every tenant, for admin keys of tenant `default`."""
    caller.every_tenant("list tenants")
    return store.accounts.list_tenants()


def key_tenant(store: Store, caller: Caller, name: str | None) -> Tenant:
    """The tenant a new key is for: the caller's own (None), or any for a superadmin."""
    if name is not None and name != caller.tenant_name:
        caller.every_tenant("create keys for other tenants", "tenant")
    return Admin(store).tenant(name or caller.tenant_name)


def list_keys(store: Store, caller: Caller) -> list[ApiKey]:
    """The keys of the caller's tenant, revoked ones included."""
    return store.accounts.list_keys(caller.tenant_id)


# -- writes: run in order by the writer (services.allowed_writes) --


@write
def create_tenant(store: Store, caller: Caller, name: str) -> Tenant:
    caller.every_tenant("create tenants")
    tenant = Admin(store).create_tenant(name)
    ensure_presets(store, [tenant.id])
    return tenant


@write
def create_key(
    store: Store, tenant: Tenant, role: Role, subject: str | None, name: str | None
) -> tuple[ApiKey, str]:
    return Admin(store).create_key(tenant, role, subject=subject, name=name)


@write
def revoke_key(store: Store, tenant_id: int, key_id: str) -> bool:
    return Admin(store).revoke_key(tenant_id, key_id)
