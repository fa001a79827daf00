"""The `Profile` interface: everything one seed profile adds to usagekit, in one object.

A profile is one package, `usagekit/profiles/<name>/`, whose `__init__` exposes
`PROFILE: Profile`; `usagekit/profiles/__init__.py` lists the packages, one line
each, and every other part of usagekit reads that list rather than naming a profile.

Inside a package the layering is the native one:

- `model.py` (and any other pure module, `samples.py`): presets, wire <-> event
  translation; imports `usagekit.core` only, never the store, services or server.
  The package `__init__` imports only pure modules, so reading the registry pulls
  in nothing above core.
- `service.py`: the profile's use cases on the store, through `usagekit.services`.
- `routes.py`: the vendor's HTTP API and error shape (`usagekit.server`), as `ROUTES`.
- `compat.py`: the vendor-compatible client, on the SDK's public transport
  (`usagekit.Client.request`), so it has the SDK's retries.

Profiles never import each other. The upper parts (routes, writes, compat client)
are named by module path, so each layer imports only the part it runs: the
writer loads a profile's writes without its routes, the server its routes
without its client.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from usagekit.core.meters import Meter

Record = dict[str, Any]


@dataclass(frozen=True)
class Samples:
    """Sample events for `usagekit demo`: a generator and the meters worth having over it."""

    name: str
    per_day: int  # events on an average weekday at scale 1
    make: Callable[[random.Random, int, int], tuple[str, str, Record]]  # -> type, subject, data
    meters: tuple[Record, ...] = ()  # native meters to create (presets exist already)
    demo_tenants: tuple[str, ...] = ()  # demo tenants that get these events, besides 'default'


@dataclass(frozen=True)
class Profile:
    """One seed profile: its presets, and where its routes, writes and client live.

    `writes` names the module of the profile's writes: module-level functions
    decorated with `usagekit.services.allowed_writes.write`, which routes hand to
    `writer.run(fn, ...)`; when `failure_channels` is set, that module's
    `retry_failure(store, caller, failure)` retries the failures of those channels.
    `routes` names a module whose `ROUTES` (usagekit.server.profiles.Routes) the
    server mounts; `compat` names the vendor-compatible client's module.
    """

    name: str
    namespace: str  # the presets' slug namespace: the part of a slug before its first dot
    presets: tuple[Meter, ...]
    routes: str | None = None
    writes: str | None = None
    compat: str | None = None
    samples: Samples | None = None
    failure_channels: tuple[str, ...] = ()

    def part(self, module: str | None, attr: str) -> object:
        """`attr` of one of this profile's modules (imported now); None if it has no such module."""
        if module is None:
            return None
        return getattr(importlib.import_module(module), attr)


def zipf(rng: random.Random, n: int) -> int:
    """1..n, a few heavy users and a long tail (sample data)."""
    return min(n, int(1 / (rng.random() ** 0.8 + 1e-9)) % n + 1)


def meter_record(
    slug: str,
    event_type: str,
    aggregation: str,
    value: str | None = None,
    unit: str | None = None,
    **dims: str,
) -> Record:
    """A meter definition as `Client.create_meter` takes it (sample data)."""
    return {
        "slug": slug,
        "event_type": event_type,
        "aggregation": aggregation,
        "value_property": value,
        "dimensions": dims,
        "unit": unit,
    }
