"""Webhook endpoints of the caller's tenant: checked, created, changed, listed, deleted.

An endpoint's signing secret is never stored. It is HMAC-SHA256 of the server
secret over the endpoint id and its secret_version (the server derives it, as it
does Elevate's token keys), shown when the endpoint is made or its secret rotated.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx

from usagekit.core.jsondata import BAD_TEXT
from usagekit.services.allowed_writes import write
from usagekit.services.caller import Caller
from usagekit.services.errors import InvalidInput, NotFound
from usagekit.services.paging import Page
from usagekit.store import Store
from usagekit.store.alerts import TYPES
from usagekit.store.deliveries import Delivery
from usagekit.store.webhooks import UNSET, Endpoint

__all__ = ["Delivery", "Endpoint"]

MAX_URL = 2048
MAX_DESCRIPTION = 1024
# Link-local and cloud metadata addresses: refused unless settings allow them.
BLOCKED = tuple(
    ipaddress.ip_network(n)
    for n in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32")
)


def signing_secret(key: bytes) -> str:
    """The Standard Webhooks form of a signing key: whsec_ and its base64."""
    return "whsec_" + base64.b64encode(key).decode()


def blocked(address: str) -> bool:
    """Whether an IP address is link-local or a cloud metadata address (IPv4 in IPv6 too)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in BLOCKED)


def check_url(url: str, allow_link_local: bool) -> str:
    """An http(s) URL with a host and no credentials (and, unless allowed, no literal
    link-local or metadata address); InvalidInput naming `url` otherwise."""

    def bad(why: str) -> InvalidInput:
        return InvalidInput(f"url: {why}", "url")

    if len(url) > MAX_URL or BAD_TEXT.search(url) or any(c.isspace() for c in url):
        raise bad(f"must be at most {MAX_URL} characters, without spaces or control characters")
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
        httpx.URL(url)  # what the sender will parse
    except (ValueError, httpx.InvalidURL) as exc:
        raise bad(f"not a URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise bad("must be an http:// or https:// URL")
    if not host:
        raise bad("has no host")
    if parts.username is not None or parts.password is not None:
        raise bad("must not carry credentials (user:password@)")
    try:
        literal = blocked(host)
    except ValueError:
        literal = False  # a name: checked when it is resolved, at each send
    if literal and not allow_link_local:
        raise bad(f"{host} is a link-local or cloud metadata address")
    return url


def check_types(event_types: list[str] | None) -> list[str] | None:
    if event_types is None:
        return None
    unknown = [t for t in event_types if t not in TYPES]
    if unknown or not event_types:
        raise InvalidInput(
            f"event_types: each must be one of {', '.join(TYPES)} (and at least one)",
            "event_types",
        )
    return list(dict.fromkeys(event_types))


def check_description(description: str | None) -> str | None:
    if description is not None and (len(description) > MAX_DESCRIPTION or "\x00" in description):
        raise InvalidInput(
            f"description: at most {MAX_DESCRIPTION} characters, no NUL", "description"
        )
    return description


def list_endpoints(store: Store, caller: Caller) -> list[Endpoint]:
    caller.whole_tenant("webhooks")
    return store.webhooks.of_tenant(caller.tenant_id)


def get_endpoint(store: Store, caller: Caller, endpoint_id: str) -> Endpoint:
    caller.whole_tenant("webhooks")
    found = store.webhooks.get(caller.tenant_id, endpoint_id)
    if found is None:
        raise NotFound(f"no webhook endpoint {endpoint_id!r}", "webhook_id")
    return found


def deliveries(
    store: Store, caller: Caller, endpoint_id: str, *, after_id: int | None, limit: int
) -> Page[Delivery]:
    """An endpoint's deliveries, newest first, with their attempts."""
    get_endpoint(store, caller, endpoint_id)
    rows = store.deliveries.page(caller.tenant_id, endpoint_id, after_id=after_id, limit=limit + 1)
    return Page.cut(rows, limit)


# -- writes: run in order by the writer (services.allowed_writes) --


@write
def create_endpoint(
    store: Store,
    caller: Caller,
    url: str,
    description: str | None,
    event_types: list[str] | None,
    allow_link_local: bool,
) -> Endpoint:
    """A new endpoint, enabled, getting the alerts made from now on."""
    caller.whole_tenant("webhooks")
    url = check_url(url, allow_link_local)
    endpoint_id = "wh_" + secrets.token_hex(12)
    return store.webhooks.create(
        endpoint_id,
        caller.tenant_id,
        url,
        check_description(description),
        check_types(event_types),
    )


@write
def update_endpoint(
    store: Store,
    caller: Caller,
    endpoint_id: str,
    changes: dict[str, Any],
    allow_link_local: bool,
) -> Endpoint:
    """Change url, description, event_types, enabled, or rotate the secret (rotate=True)."""
    caller.whole_tenant("webhooks")
    given: dict[str, Any] = dict.fromkeys(("url", "description", "event_types", "enabled"), UNSET)
    if "url" in changes:
        given["url"] = check_url(changes["url"], allow_link_local)
    if "description" in changes:
        given["description"] = check_description(changes["description"])
    if "event_types" in changes:
        given["event_types"] = check_types(changes["event_types"])
    if "enabled" in changes:
        given["enabled"] = bool(changes["enabled"])
    found = store.webhooks.update(
        caller.tenant_id, endpoint_id, rotate=bool(changes.get("rotate")), **given
    )
    if found is None:
        raise NotFound(f"no webhook endpoint {endpoint_id!r}", "webhook_id")
    return found


@write
def delete_endpoint(store: Store, caller: Caller, endpoint_id: str) -> None:
    caller.whole_tenant("webhooks")
    if not store.webhooks.delete(caller.tenant_id, endpoint_id):
        raise NotFound(f"no webhook endpoint {endpoint_id!r}", "webhook_id")


@write
def retry_delivery(
    store: Store, caller: Caller, endpoint_id: str, delivery_id: int, now_ms: int
) -> None:
    """Make a delivery due now, whatever its state (one more attempt if it had failed)."""
    caller.whole_tenant("webhooks")
    if not store.deliveries.retry(caller.tenant_id, endpoint_id, delivery_id, now_ms):
        raise NotFound(f"no delivery {delivery_id} of webhook {endpoint_id!r}", "delivery_id")
