"""Elevate access tokens: signed with a key the database alone does not give, always expiring."""

from __future__ import annotations

import hashlib
import hmac
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import SERVER_SECRET, new_tenant_key
from usagekit.server.app import create_app
from usagekit.server.settings import Settings
from usagekit.store import Store
from usagekit.store.schema import server_secrets

URL = "/api/umon/v1/usage-metrics"
ASK = {"metricType": "CPU_TIME_MS"}


def exchange(client: TestClient, role: str = "read", tenant: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"role": role} | ({"tenant": tenant} if tenant else {})
    key = client.post("/v1/keys", json=body).json()
    got = client.post("/exchange-auth-code", json={"clientId": key["id"], "secret": key["key"]})
    assert got.status_code == 200, got.text
    return {"token": got.json()["accessToken"], **key}


def stored_values(settings: Settings) -> list[str]:
    store = Store.open(settings.db, create=False)
    try:
        with store.engine.connect() as conn:
            return [str(v) for v in conn.execute(select(server_secrets.c.value)).scalars()]
    finally:
        store.close()


def tenant_key(secret: str, salt: str, tenant_id: int) -> bytes:
    """The documented derivation, computed here independently of the server's code."""
    message = f"usagekit/elevate-token/v1\0{salt}\0{tenant_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def usage(client: TestClient, token: str) -> int:
    return client.get(URL, params=ASK, headers={"Authorization": f"Bearer {token}"}).status_code


def test_database_alone_cannot_sign_or_verify(client: TestClient, settings: Settings) -> None:
    got = exchange(client)
    claims = jwt.decode(got["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600 and claims["exp"] > time.time()
    values = stored_values(settings)
    assert values  # the salt is there...
    for value in values:  # ...but no value in the database verifies the token
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(got["token"], value, algorithms=["HS256"])
    [salt] = values
    key = tenant_key(SERVER_SECRET, salt, claims["tid"])
    assert jwt.decode(got["token"], key, algorithms=["HS256"])["sub"] == got["id"]
    assert usage(client, got["token"]) == 200


def test_tokens_without_exp_or_past_it_are_refused(client: TestClient, settings: Settings) -> None:
    got = exchange(client)
    claims = jwt.decode(got["token"], options={"verify_signature": False})
    key = tenant_key(SERVER_SECRET, stored_values(settings)[0], claims["tid"])
    now = int(time.time())
    forever = {k: v for k, v in claims.items() if k != "exp"}
    assert usage(client, jwt.encode(forever, key, algorithm="HS256")) == 401
    expired = claims | {"iat": now - 7200, "exp": now - 10}
    assert usage(client, jwt.encode(expired, key, algorithm="HS256")) == 401
    fresh = claims | {"iat": now, "exp": now + 60}
    assert usage(client, jwt.encode(fresh, key, algorithm="HS256")) == 200  # the control
    reply = client.get(
        URL,
        params=ASK,
        headers={"Authorization": f"Bearer {jwt.encode(forever, key, algorithm='HS256')}"},
    )
    assert reply.headers["content-type"] == "application/problem+json"


def test_one_tenants_key_does_not_sign_for_another(client: TestClient, settings: Settings) -> None:
    new_tenant_key(client, "other")
    mine = exchange(client)
    theirs = exchange(client, "admin", tenant="other")
    ours = jwt.decode(mine["token"], options={"verify_signature": False})
    other = jwt.decode(theirs["token"], options={"verify_signature": False})
    assert ours["tid"] != other["tid"]
    key = tenant_key(SERVER_SECRET, stored_values(settings)[0], ours["tid"])
    forged = other | {"exp": int(time.time()) + 60}
    assert usage(client, jwt.encode(forged, key, algorithm="HS256")) == 401
    assert usage(client, theirs["token"]) == 200


def test_secret_file_is_made_private_and_changing_it_ends_tokens(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    if "://" in settings.db:
        pytest.skip("the default secret file sits next to a SQLite database")
    own = settings.replace(secret=None)
    path = Path(own.db + ".secret")
    with TestClient(create_app(own)) as client:
        client.headers["Authorization"] = f"Bearer {settings.bootstrap_key}"
        token = exchange(client)["token"]
        assert usage(client, token) == 200
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert capsys.readouterr().out.count(f"created server secret {path}") == 1
    secret = path.read_text().strip()
    assert len(secret) >= 32 and secret not in stored_values(own)
    with TestClient(create_app(own)) as client:
        assert usage(client, token) == 200  # the same file: the same keys
    assert "created server secret" not in capsys.readouterr().out  # made once
    path.write_text("another-server-secret-0123456789abcdef\n")
    with TestClient(create_app(own)) as client:
        assert usage(client, token) == 401
