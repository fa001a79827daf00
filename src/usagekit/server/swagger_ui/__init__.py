"""Swagger UI at /docs, from files in the package: it works with no network.

The files are swagger-ui-dist's, vendored unchanged (static/VERSION says which);
FastAPI's own /docs loads them from a CDN, and its /redoc is off.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, Response

from usagekit.server.errors import ApiError
from usagekit.server.responses import STATIC_TYPES

router = APIRouter(include_in_schema=False)

SERVED = frozenset(
    {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "favicon-32x32.png",
        "swagger-ui-bundle.js.LICENSE.txt",
    }
)
# Nothing leaves this server: no validator badge; the key is kept only while the tab is open.
PARAMETERS = {"validatorUrl": None, "persistAuthorization": False}


@cache
def asset(name: str) -> bytes:
    return files(__name__).joinpath("static", name).read_bytes()


@router.get("/docs")
async def docs() -> HTMLResponse:
    """The API's operations, with Authorize (an API key) and Try it out."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="usagekit API",
        swagger_js_url="/docs/swagger-ui-bundle.js",
        swagger_css_url="/docs/swagger-ui.css",
        swagger_favicon_url="/docs/favicon-32x32.png",
        swagger_ui_parameters=PARAMETERS,
    )


@router.get("/docs/{name}")
async def docs_file(name: str) -> Response:
    if name not in SERVED:
        raise ApiError(404, f"no docs file {name!r}", "name")
    suffix = name[name.rindex(".") :]
    return Response(
        asset(name), media_type=STATIC_TYPES[suffix], headers={"Cache-Control": "max-age=86400"}
    )
