"""Tenants and API keys (keys are stored as SHA-256 hashes only)."""

from __future__ import annotations

from secrets import token_hex
from typing import Any

from sqlalchemy import Engine, Row, Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from usagekit.core.clock import Clock
from usagekit.core.records import ApiKey, Role, Tenant
from usagekit.store.errors import AlreadyExists
from usagekit.store.schema import api_keys, server_secrets, tenants


class Accounts:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.clock = clock
        self.engine = engine

    def create_tenant(self, name: str) -> Tenant:
        """A new tenant; AlreadyExists naming `name` if one is called that."""
        created = self.clock.now_ms()
        try:
            with self.engine.begin() as conn:
                tid = conn.execute(
                    insert(tenants).values(name=name, created_ms=created).returning(tenants.c.id)
                ).scalar_one()
        except IntegrityError:
            raise AlreadyExists(f"tenant {name!r} already exists", "name") from None
        return Tenant(tid, name, created)

    def tenant_by_name(self, name: str) -> Tenant | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(tenants).where(tenants.c.name == name)).first()
        return Tenant(row.id, row.name, row.created_ms) if row else None

    def list_tenants(self) -> list[Tenant]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tenants).order_by(tenants.c.id)).all()
        return [Tenant(r.id, r.name, r.created_ms) for r in rows]

    def create_key(
        self,
        key_id: str,
        tenant_id: int,
        role: Role,
        key_hash: str,
        prefix: str,
        subject: str | None = None,
        name: str | None = None,
    ) -> ApiKey:
        """A new key; AlreadyExists if its hash (its secret) is already a key's."""
        created = self.clock.now_ms()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(api_keys).values(
                        id=key_id,
                        tenant_id=tenant_id,
                        role=role.value,
                        subject=subject,
                        name=name,
                        key_hash=key_hash,
                        prefix=prefix,
                        created_ms=created,
                    )
                )
        except IntegrityError:
            raise AlreadyExists("that key is already in use", "key") from None
        found = self.key_by_id(tenant_id, key_id)
        assert found is not None
        return found

    def _select(self) -> Select[Any]:
        return select(api_keys, tenants.c.name.label("tenant_name")).join(
            tenants, tenants.c.id == api_keys.c.tenant_id
        )

    def key_by_hash(self, key_hash: str, *, live: bool = True) -> ApiKey | None:
        """The key with this hash, or None (unknown, or revoked when `live`)."""
        query = self._select().where(api_keys.c.key_hash == key_hash)
        if live:
            query = query.where(api_keys.c.revoked_ms.is_(None))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _key(row) if row else None

    def key_by_id(self, tenant_id: int, key_id: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                self._select().where(api_keys.c.id == key_id, api_keys.c.tenant_id == tenant_id)
            ).first()
        return _key(row) if row else None

    def list_keys(self, tenant_id: int) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                self._select()
                .where(api_keys.c.tenant_id == tenant_id)
                .order_by(api_keys.c.created_ms, api_keys.c.id)
            ).all()
        return [_key(r) for r in rows]

    def revoke_key(self, tenant_id: int, key_id: str, *, keep_admin_of: str) -> bool | None:
        """Revoke a live key: True, False if there is none, None (nothing done) if it is
        the last live admin key of tenant `keep_admin_of`.

        Checked and done under the writers' lock, so two revocations running at once
        in different processes cannot both pass the check.
        """
        live = (api_keys.c.tenant_id == tenant_id) & api_keys.c.revoked_ms.is_(None)
        with self.engine.execution_options(immediate=True).begin() as conn:
            row = conn.execute(
                select(api_keys.c.role, tenants.c.name)
                .join(tenants, tenants.c.id == api_keys.c.tenant_id)
                .where(live, api_keys.c.id == key_id)
            ).first()
            if row is None:
                return False
            if row.role == Role.ADMIN.value and row.name == keep_admin_of:
                admins = conn.execute(
                    select(func.count())
                    .select_from(api_keys)
                    .where(live, api_keys.c.role == Role.ADMIN.value)
                ).scalar_one()
                if admins <= 1:
                    return None
            conn.execute(
                update(api_keys)
                .where(live, api_keys.c.id == key_id)
                .values(revoked_ms=self.clock.now_ms())
            )
        return True

    def server_secret(self, name: str) -> str:
        """A random value kept in the database, made on first use (every process sees one).

        Not a key by itself: signing keys also need the server secret (server.secret).
        """
        with self.engine.connect() as conn:
            found = conn.execute(
                select(server_secrets.c.value).where(server_secrets.c.name == name)
            ).scalar()
        if found is not None:
            return str(found)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(server_secrets).values(name=name, value=token_hex(32)))
        except IntegrityError:
            pass  # another process made it first
        return self.server_secret(name)

    def count_keys(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(api_keys)).scalar_one())


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        tenant_name=row.tenant_name,
        role=Role(row.role),
        subject=row.subject,
        prefix=row.prefix,
        created_ms=row.created_ms,
        revoked_ms=row.revoked_ms,
        name=row.name,
    )
