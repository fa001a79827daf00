"""One table maps every error a request can end in to its status, through the class
hierarchy; the store raises its own errors, which cross the writer process intact."""

from __future__ import annotations

import importlib
import pickle
import pkgutil

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import usagekit
from usagekit.core.errors import ParamError
from usagekit.core.meters import InvalidMeter, validate_meter
from usagekit.core.windows import WindowError
from usagekit.server.errors import STATUS, install, status_of
from usagekit.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from usagekit.services.faults import (
    DatabaseUnavailable,
    Overloaded,
    StorageFull,
    Unavailable,
    WriterUnavailable,
)
from usagekit.services.ingest import BodyError
from usagekit.store import AlreadyExists, Store, StoreError

# Error classes of the server side that never answer a request on their own, and why.
NOT_ANSWERS = {
    "usagekit.services.errors.ServiceError": "a base: each subclass is listed by its kind",
    "usagekit.store.errors.StoreError": "a base: each subclass is listed by its kind",
    "usagekit.core.events.InvalidRecord": "one record's rejection, reported inside a reply",
    "usagekit.core.jsondata.DataError": "one record's data, reported as InvalidRecord",
    "usagekit.core.numbers.NotANumber": "one value, reported as InvalidRecord",
    "usagekit.services.ingest._NotJSON": "one NDJSON line, reported inside a reply",
    "usagekit.store.copy.TargetNotEmpty": "the copy command only",
    "usagekit.server.settings_errors.SettingsError": "server start-up only",
    "usagekit.store.snapshots.BackupError": "the backup and restore commands only",
    "usagekit.server.errors.ApiError": "carries its own status",
    "usagekit.server.body_limit.BodyTooLarge": "an HTTPException with its own status",
    "usagekit.services.allowed_writes.NotAWrite": "a bug: code handed the writer an "
    "unregistered function (500)",
    "usagekit.services.delivery.Refused": "a webhook address refused at send time, kept as "
    "the attempt's error",
    "usagekit.services.delivery.Unresolved": "a webhook host that did not resolve, kept as "
    "the attempt's error",
}
SERVER_SIDE = ("usagekit.core", "usagekit.store", "usagekit.services", "usagekit.server")


def server_side_errors() -> dict[str, type[BaseException]]:
    for info in pkgutil.walk_packages(usagekit.__path__, "usagekit."):
        if info.name.startswith(SERVER_SIDE):
            importlib.import_module(info.name)
    found: dict[str, type[BaseException]] = {}
    stack: list[type[BaseException]] = [Exception]
    while stack:
        kind = stack.pop()
        stack += kind.__subclasses__()
        if kind.__module__.startswith(SERVER_SIDE):
            found[f"{kind.__module__}.{kind.__qualname__}"] = kind
    return found


def test_every_error_class_has_a_status_or_a_reason_not_to() -> None:
    found = server_side_errors()
    unanswered = [n for n, k in found.items() if status_of(k) is None and n not in NOT_ANSWERS]
    assert unanswered == [], "add these to server.errors.STATUS (or to NOT_ANSWERS, saying why)"
    assert sorted(set(NOT_ANSWERS) - set(found)) == [], "NOT_ANSWERS names a class that is gone"
    assert [n for n in NOT_ANSWERS if status_of(found[n]) is not None] == []
    assert set(STATUS) <= set(found.values())


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (ParamError, 400),
        (InvalidMeter, 400),
        (WindowError, 400),
        (InvalidInput, 400),
        (BodyError, 400),
        (Forbidden, 403),
        (NotFound, 404),
        (Conflict, 409),
        (AlreadyExists, 409),
        (Unavailable, 503),
        (DatabaseUnavailable, 503),
        (WriterUnavailable, 503),
        (Overloaded, 503),
        (StorageFull, 507),
    ],
)
def test_a_class_takes_the_status_of_its_nearest_listed_ancestor(
    kind: type[Exception], status: int
) -> None:
    assert status_of(kind) == status


class GoneMeter(NotFound):
    """A subclass defined outside the table: it must answer as its parent does."""


class QuotaFull(StorageFull):
    pass


def app_raising() -> TestClient:
    app = FastAPI()
    install(app)
    raised: dict[str, Exception] = {
        "gone": GoneMeter("no meter 'x'", "slug"),
        "quota": QuotaFull("quota reached"),
        "meter": InvalidMeter("aggregation: must be one of sum, count", "aggregation"),
        "window": WindowError("tz: unknown zone", "tz"),
        "exists": pickle.loads(pickle.dumps(AlreadyExists("meter 'a' already exists", "slug"))),
        "body": BodyError("body is not valid JSON"),
    }

    @app.get("/{name}")
    async def fail(name: str) -> None:
        raise raised[name]

    return TestClient(app)


@pytest.mark.parametrize(
    ("name", "status", "code", "param"),
    [
        ("gone", 404, "not_found", "slug"),
        ("quota", 507, "storage_full", None),
        ("meter", 400, "invalid_request", "aggregation"),
        ("window", 400, "invalid_request", "tz"),
        ("exists", 409, "conflict", "slug"),
        ("body", 400, "invalid_request", "body"),
    ],
)
def test_the_boundary_answers_each_error_by_its_class(
    name: str, status: int, code: str, param: str | None
) -> None:
    reply = app_raising().get(f"/{name}")
    assert reply.status_code == status
    assert reply.json()["error"]["code"] == code
    assert reply.json()["error"]["param"] == param
    assert ("retry-after" in reply.headers) == (status >= 503)
    if status == 507:
        assert reply.headers["retry-after"] == str(StorageFull.default_retry_after)


@pytest.mark.parametrize(
    "exc",
    [
        ParamError("from: not a time", "from"),
        InvalidMeter("slug: too long", "slug"),
        WindowError("tz: unknown zone", "tz"),
        AlreadyExists("tenant 'a' already exists", "name"),
        BodyError("body is not valid JSON"),
    ],
)
def test_errors_cross_the_writer_process_with_their_param(exc: Exception) -> None:
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == str(exc)
    assert back.param == exc.param  # type: ignore[attr-defined]


def test_the_store_reports_duplicates_as_its_own_error(store: Store) -> None:
    tenant = store.accounts.create_tenant("acme")
    with pytest.raises(AlreadyExists) as dup_tenant:
        store.accounts.create_tenant("acme")
    assert dup_tenant.value.param == "name"
    meter = validate_meter("jobs", "job", "count", None, None)
    store.create_meter(tenant.id, meter)
    with pytest.raises(StoreError) as dup_meter:
        store.create_meter(tenant.id, meter)
    assert isinstance(dup_meter.value, AlreadyExists)
    assert dup_meter.value.message == "meter 'jobs' already exists"
    assert dup_meter.value.param == "slug"
    # The failed insert left nothing behind: the tenant has its one meter.
    assert [m.slug for m in store.meters.for_tenant(tenant.id)] == ["jobs"]
