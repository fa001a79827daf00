"""Who a request acts for: the one place tenant and subject scope come from.

Every service that reads or changes usage data takes a `Caller` rather than a bare
tenant id, and narrows what it touches with `subject`, so no route can forget the
scope. The server builds it once per request from the authenticated key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from usagekit.core.records import ApiKey, Role
from usagekit.services.errors import Forbidden

DEFAULT_TENANT = "default"  # its admin keys manage every tenant


@dataclass(frozen=True, slots=True)
class Caller:
    """A key's tenant, the subject it is confined to (None: the whole tenant), and its role.

    `key_subject` is the subject the key was created with even when it does not
    confine the key (admin keys): who "me" is, for profiles that have users.
    """

    tenant_id: int
    subject: str | None
    role: Role
    tenant_name: str = ""
    key_subject: str | None = None

    @classmethod
    def of(cls, key: ApiKey) -> Caller:
        """A subject-bound key is confined to its subject unless it is an admin key."""
        scope = None if key.role is Role.ADMIN else key.subject
        return cls(key.tenant_id, scope, key.role, key.tenant_name, key.subject)

    @classmethod
    def tenant(cls, tenant_id: int, role: Role = Role.ADMIN) -> Caller:
        """The whole tenant (tools, tests and the writer's own housekeeping)."""
        return cls(tenant_id, None, role)

    @property
    def admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def superadmin(self) -> bool:
        """An admin key of tenant `default`: it may reach every tenant."""
        return self.role is Role.ADMIN and self.tenant_name == DEFAULT_TENANT

    def every_tenant(self, what: str, param: str | None = None) -> None:
        """Forbidden unless a superadmin: `what` reaches beyond the caller's tenant."""
        if not self.superadmin:
            raise Forbidden(f"only admin keys of tenant {DEFAULT_TENANT!r} {what}", param)

    def narrow(self, asked: Iterable[str] | None, param: str = "subject") -> list[str] | None:
        """The subjects a read may cover: those asked (None: all), confined to the scope.

        Forbidden when a confined caller names another subject.
        """
        wanted = list(dict.fromkeys(asked)) if asked is not None else None
        if self.subject is None:
            return wanted or None
        if wanted and wanted != [self.subject]:
            raise Forbidden(f"this key may only reach subject {self.subject!r}'s data", param)
        return [self.subject]

    def owns(self, subject: str | None) -> bool:
        """Whether data of `subject` (None: not attributed to one) is within reach."""
        return self.subject is None or subject == self.subject

    def whole_tenant(self, what: str) -> None:
        """Forbidden for a confined caller: `what` is tenant-wide and cannot be narrowed."""
        if self.subject is not None:
            raise Forbidden(f"{what} is tenant-wide; this key is bound to subject {self.subject!r}")
