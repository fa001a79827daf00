"""Behind a reverse proxy: the per-address limit on failed authentications sees the client
addresses the proxy forwards, when (and only when) the proxy's address is trusted by the
forwarded_allow_ips setting."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.live import serve


def codes_from(url: str, client: str, n: int) -> list[int]:
    headers = {"Authorization": "Bearer uk_wrong_key_0123456789", "X-Forwarded-For": client}
    return [httpx.get(f"{url}/v1/meters", headers=headers).status_code for _ in range(n)]


def test_failed_auth_limit_is_per_forwarded_address_from_a_trusted_proxy(tmp_path: Path) -> None:
    # We connect from 127.0.0.1, the default trusted proxy address.
    with serve(str(tmp_path / "a.db"), tmp_path, "--auth-failure-limit", "0.01") as live:
        first = codes_from(live.url, "203.0.113.7", 12)
        assert first[:10] == [401] * 10 and first[10:] == [429] * 2
        assert codes_from(live.url, "203.0.113.8", 1) == [401]  # another client, own budget


def test_untrusted_proxy_headers_are_ignored(tmp_path: Path) -> None:
    env = {"USAGEKIT_FORWARDED_ALLOW_IPS": "192.0.2.1"}  # not us
    with serve(str(tmp_path / "b.db"), tmp_path, "--auth-failure-limit", "0.01", env=env) as live:
        first = codes_from(live.url, "203.0.113.7", 12)
        assert first[:10] == [401] * 10 and first[10:] == [429] * 2
        # The header is not believed: every request is from 127.0.0.1, out of budget.
        assert codes_from(live.url, "203.0.113.8", 1) == [429]
