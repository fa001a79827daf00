"""The writer runs registered write functions with typed arguments and results.

Writes are function objects, not names: `Writer.run(fn, *args)` is typed by `fn`,
and the writer (a thread here, a child process there) refuses any function not
registered with `allowed_writes.write`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from usagekit.core.meters import Meter, validate_meter
from usagekit.core.records import Role, Tenant
from usagekit.services import admin, meters
from usagekit.services.allowed_writes import NotAWrite, check_write, write
from usagekit.services.caller import DEFAULT_TENANT, Caller
from usagekit.services.writer import Call, ProcessWriter, ThreadWriter, execute
from usagekit.store import Store

ROOT = Caller(1, None, Role.ADMIN, DEFAULT_TENANT)  # an admin of tenant 'default'


@write
def tenant_names(store: Store, prefix: str) -> list[str]:
    """A write registered outside services (as a profile's would be): it reads, harmlessly."""
    return sorted(t.name for t in store.accounts.list_tenants() if t.name.startswith(prefix))


def rename_everything(store: Store, name: str) -> None:
    """Looks like a write but is not registered: the writer must never run it."""
    raise AssertionError("an unregistered function ran in the writer")


def test_thread_writer_runs_registered_writes_and_returns_their_results(store: Store) -> None:
    meter = validate_meter("cpu", "job", "sum", "cpu_ms", {})

    async def body(writer: ThreadWriter) -> tuple[Tenant, Meter, list[str]]:
        tenant = await writer.run(admin.create_tenant, ROOT, "acme")
        created = await writer.run(meters.create_meter, tenant.id, meter)
        names = await writer.run(tenant_names, "ac")
        return tenant, created, names

    async def main() -> tuple[Tenant, Meter, list[str]]:
        writer = ThreadWriter(store)
        await writer.start()
        try:
            return await body(writer)
        finally:
            await writer.stop()

    tenant, created, names = asyncio.run(main())
    assert tenant.name == "acme" and names == ["acme"]
    stored = store.meters.get(tenant.id, "cpu")
    assert stored is not None and stored == created and created.tenant_id == tenant.id


def test_unregistered_functions_are_refused_before_and_inside_the_writer(store: Store) -> None:
    async def main() -> None:
        writer = ThreadWriter(store)
        await writer.start()
        try:
            with pytest.raises(NotAWrite, match="rename_everything"):
                await writer.run(rename_everything, "x")
            with pytest.raises(NotAWrite):
                await writer.run(lambda s: None)
        finally:
            await writer.stop()

    asyncio.run(main())
    # What the child process does with a message that got past the parent's check.
    [(ok, value)] = execute(store, [Call(rename_everything, ("x",), {})])
    assert not ok and isinstance(value, NotAWrite)


def test_a_write_registered_in_any_module_must_be_that_function() -> None:
    with pytest.raises(TypeError, match="module-level"):

        @write
        def nested(store: Store) -> None: ...

    def impostor(store: Store, prefix: str) -> list[str]:
        return []

    impostor.__module__, impostor.__qualname__ = __name__, "tenant_names"
    with pytest.raises(NotAWrite):
        check_write(impostor)
    check_write(tenant_names)


def test_process_writer_child_runs_functions_by_reference_and_refuses_others(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "w.db")
    Store.open(db).close()

    async def main() -> tuple[Tenant, list[str], BaseException | None]:
        writer = ProcessWriter(db, "NORMAL")
        await writer.start()
        try:
            tenant = await writer.run(admin.create_tenant, ROOT, "zeta")
            names = await writer.run(tenant_names, "ze")  # the child imports this module
            refused: BaseException | None = None
            try:  # past the parent's check, straight down the pipe
                await writer._submit(Call(rename_everything, ("y",), {}))
            except Exception as exc:
                refused = exc
            return tenant, names, refused
        finally:
            await writer.stop()

    tenant, names, refused = asyncio.run(main())
    assert tenant.name == "zeta" and names == ["zeta"]
    assert isinstance(refused, RuntimeError) and "NotAWrite" in str(refused)
    store = Store.open(db, create=False)
    try:
        assert store.accounts.tenant_by_name("zeta") is not None
    finally:
        store.close()
