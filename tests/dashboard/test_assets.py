"""The dashboard's files: served from the package, every reference resolves, nothing else."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from usagekit.server.dashboard import assets

REFERENCE = re.compile(r"""(?:src|href)="(/ui/[^"]+)"|from "(\.{1,2}/[^"]+)\"""")


def resolve(base: str, ref: str) -> str:
    parts = base.split("/")[:-1]
    for piece in ref.split("/"):
        if piece == "..":
            parts.pop()
        elif piece != ".":
            parts.append(piece)
    return "/".join(parts)


def test_every_reference_in_the_pages_and_modules_is_served(client: TestClient) -> None:
    index = client.get("/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in index.headers["content-security-policy"]
    pending = [("index.html", index.text)]
    seen = {"index.html"}
    while pending:
        name, text = pending.pop()
        for absolute, relative in REFERENCE.findall(text):
            target = absolute.removeprefix("/ui/") if absolute else resolve(name, relative)
            if target in seen:
                continue
            seen.add(target)
            reply = client.get(f"/ui/{target}")
            assert reply.status_code == 200, f"{name} refers to missing {target}"
            if target.endswith(".js"):
                assert reply.headers["content-type"].startswith("text/javascript")
                pending.append((target, reply.text))
    served = {n for n in assets() if n.endswith((".js", ".css", ".html"))}
    assert served == seen, "every shipped file is used, every used file shipped"


def test_only_shipped_files_are_served_and_none_is_in_the_schema(client: TestClient) -> None:
    for path in ("/ui/nope.js", "/ui/../pyproject.toml", "/ui/js/../../__init__.py"):
        reply = client.get(path)
        assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(p.startswith("/ui") for p in paths)
    assert "/v1/ingestion" in paths
    first = client.get("/ui/js/main.js")
    again = client.get("/ui/js/main.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert "CDN" not in client.get("/").text and "https://" not in client.get("/").text
