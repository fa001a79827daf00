"""Mount the seed profiles (usagekit.profiles): each one's routes and error shapes.

A profile's routes module exposes `ROUTES`: its router (kept out of the native
OpenAPI document, which describes usagekit's own API), any usagekit-style
routers it adds (documented there), and, per path prefix, the vendor's error
shape, so that every error under that prefix (401, 404, 422, 500 ...) reaches the
vendor's client in the form it parses.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, FastAPI

from usagekit.profiles import PROFILES
from usagekit.server.errors import ErrorStyle


@dataclass(frozen=True)
class Routes:
    """A profile's server side: `ROUTES` in its routes module."""

    router: APIRouter
    errors: tuple[tuple[str, ErrorStyle], ...]  # (path prefix, error shape)
    native: tuple[APIRouter, ...] = ()  # routes in usagekit's own shape, e.g. /v1/registry


def profiles() -> tuple[Routes, ...]:
    """The routes of every registered profile that has some."""
    found: list[Routes] = []
    for profile in PROFILES:
        routes = profile.part(profile.routes, "ROUTES")
        if routes is None:
            continue
        if not isinstance(routes, Routes):
            raise TypeError(f"{profile.routes}.ROUTES must be a usagekit.server.profiles.Routes")
        found.append(routes)
    return tuple(found)


def install(app: FastAPI) -> list[tuple[str, ErrorStyle]]:
    """Mount every profile's routes; returns the error shapes by path prefix."""
    styles: list[tuple[str, ErrorStyle]] = []
    for profile in profiles():
        app.include_router(profile.router, include_in_schema=False)
        for router in profile.native:
            app.include_router(router)
        styles.extend(profile.errors)
    return styles
