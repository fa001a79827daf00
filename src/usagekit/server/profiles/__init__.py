"""Seed profiles: the vendors' usage APIs, translated onto the native engine.

Each profile module exposes `PROFILE`: its router (kept out of the native
OpenAPI document, which describes usagekit's own API) and, per path prefix, the
vendor's error shape, so that every error under that prefix (401, 404, 422,
500 ...) reaches the vendor's client in the form it parses.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, FastAPI

from usagekit.server.errors import ErrorStyle


@dataclass(frozen=True)
class Profile:
    name: str
    router: APIRouter
    errors: tuple[tuple[str, ErrorStyle], ...]  # (path prefix, error shape)


def profiles() -> tuple[Profile, ...]:
    from usagekit.server.profiles import amie, civis, elevate, geobox, launchdarkly

    return (amie.PROFILE, civis.PROFILE, elevate.PROFILE, geobox.PROFILE, launchdarkly.PROFILE)


def install(app: FastAPI) -> list[tuple[str, ErrorStyle]]:
    """Mount every profile's routes; returns the error shapes by path prefix."""
    styles: list[tuple[str, ErrorStyle]] = []
    for profile in profiles():
        app.include_router(profile.router, include_in_schema=False)
        styles.extend(profile.errors)
    return styles
