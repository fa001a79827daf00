"""Reaching beyond one's tenant is refused by the services themselves, not only by routes."""

from __future__ import annotations

import pytest

from usagekit.core.records import Role
from usagekit.services import admin
from usagekit.services.caller import DEFAULT_TENANT, Caller
from usagekit.services.errors import Forbidden
from usagekit.store import Store


def callers(store: Store) -> tuple[Caller, Caller, Caller]:
    """A superadmin, an admin of another tenant, and a read key of `default`."""
    default = admin.Admin(store).bootstrap(None)
    assert default is not None
    home = store.accounts.tenant_by_name(DEFAULT_TENANT)
    assert home is not None
    acme = admin.create_tenant(store, Caller(home.id, None, Role.ADMIN, DEFAULT_TENANT), "acme")
    return (
        Caller(home.id, None, Role.ADMIN, DEFAULT_TENANT),
        Caller(acme.id, None, Role.ADMIN, "acme"),
        Caller(home.id, None, Role.READ, DEFAULT_TENANT),
    )


def test_only_a_superadmin_lists_or_creates_tenants(store: Store) -> None:
    root, other, reader = callers(store)
    assert {t.name for t in admin.list_tenants(store, root)} == {DEFAULT_TENANT, "acme"}
    for caller in (other, reader):
        with pytest.raises(Forbidden, match="tenant 'default'"):
            admin.list_tenants(store, caller)
        with pytest.raises(Forbidden):
            admin.create_tenant(store, caller, "sneaky")
    assert store.accounts.tenant_by_name("sneaky") is None


def test_keys_for_another_tenant_need_a_superadmin(store: Store) -> None:
    root, other, _ = callers(store)
    assert admin.key_tenant(store, root, "acme").name == "acme"
    assert admin.key_tenant(store, other, None).name == "acme"
    assert admin.key_tenant(store, other, "acme").name == "acme"
    with pytest.raises(Forbidden) as refused:
        admin.key_tenant(store, other, DEFAULT_TENANT)
    assert refused.value.param == "tenant"
