"""The seed profiles: one registry line per profile package (see profiles.base).

Presets, routes, error shapes, writes, sample data and compat clients are all read
from `PROFILES`; adding a profile means adding its package and one line here.
"""

from __future__ import annotations

import importlib

from usagekit.profiles.base import Profile, Samples

REGISTRY = (
    "usagekit.profiles.amie",
    "usagekit.profiles.civis",
    "usagekit.profiles.elevate",
    "usagekit.profiles.geobox",
    "usagekit.profiles.launchdarkly",
)


def _load(package: str) -> Profile:
    profile = getattr(importlib.import_module(package), "PROFILE", None)
    if not isinstance(profile, Profile):
        raise TypeError(f"{package}.PROFILE must be a usagekit.profiles.base.Profile")
    return profile


PROFILES: tuple[Profile, ...] = tuple(_load(package) for package in REGISTRY)


def owner_of_channel(channel: str) -> Profile | None:
    """The profile that retries failures of `channel` itself, if one does."""
    return next((p for p in PROFILES if channel in p.failure_channels), None)


__all__ = ["PROFILES", "REGISTRY", "Profile", "Samples", "owner_of_channel"]
