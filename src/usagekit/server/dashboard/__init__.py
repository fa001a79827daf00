"""The web dashboard: static files served at `/` and `/ui/...`, built on the native API.

The browser does all the work with the caller's API key; the server only hands out
files that ship inside the package (nothing is fetched from elsewhere at run time).
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files
from pathlib import PurePosixPath

from fastapi import APIRouter, Request
from starlette.responses import Response

from usagekit.server.errors import ApiError
from usagekit.server.responses import STATIC_TYPES

router = APIRouter(include_in_schema=False)

# The page talks to this server only; uPlot sets element styles, hence 'unsafe-inline'.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def assets() -> dict[str, tuple[bytes, str, str]]:
    """Every file under static/ by its path there, read once: the only names served.

    Each with its media type and an ETag, so a browser revalidates cheaply (304).
    """
    found: dict[str, tuple[bytes, str, str]] = {}
    pending = [(files(__name__).joinpath("static"), "")]
    while pending:
        folder, prefix = pending.pop()
        for entry in folder.iterdir():
            name = f"{prefix}{entry.name}"
            if entry.is_dir():
                pending.append((entry, f"{name}/"))
            elif PurePosixPath(name).suffix in STATIC_TYPES:
                body = entry.read_bytes()
                tag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
                found[name] = (body, STATIC_TYPES[PurePosixPath(name).suffix], tag)
    return found


def asset(request: Request, name: str) -> Response:
    found = assets().get(name)
    if found is None:
        raise ApiError(404, f"no dashboard file {name!r}", "path")
    body, media_type, tag = found
    headers = {**HEADERS, "ETag": tag}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get("/")
async def index(request: Request) -> Response:
    """The dashboard's single page; it signs in with an API key kept in sessionStorage."""
    return asset(request, "index.html")


@router.get("/ui/{name:path}")
async def static(request: Request, name: str) -> Response:
    return asset(request, name)
