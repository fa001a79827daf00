"""Preset meters: what the seed profiles answer from, present in every tenant.

Each profile owns a slug namespace (`elevate.`, `ld.`, ...). Users cannot create
or delete meters there; the server keeps each tenant's presets equal to the
profiles' definitions, so profile answers and native queries come from one meter.
The definitions come from the profile registry (usagekit.profiles), whose package
modules are as pure as core: the registry imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from usagekit.core.meters import Meter
from usagekit.profiles import PROFILES as _PROFILES

# profile name -> slug namespace (the part before the first dot)
NAMESPACES: dict[str, str] = {p.name: p.namespace for p in _PROFILES}
_BY_NAMESPACE = {ns: name for name, ns in NAMESPACES.items()}

PRESETS: tuple[Meter, ...] = tuple(m for p in _PROFILES for m in p.presets)


def profile_of(slug: str) -> str | None:
    """The profile whose namespace holds `slug`, or None for a user's own meter."""
    head, dot, _ = slug.partition(".")
    return _BY_NAMESPACE.get(head) if dot else None


def plan(existing: Iterable[Meter]) -> tuple[list[Meter], list[Meter]]:
    """(to delete, to create) so that a tenant's reserved meters equal PRESETS.

    A preset whose definition changed is deleted and created again, which
    recomputes it from the raw events.
    """
    wanted = {m.slug: m for m in PRESETS}
    drop: list[Meter] = []
    have: set[str] = set()
    for meter in existing:
        if profile_of(meter.slug) is None:
            continue
        target = wanted.get(meter.slug)
        if target is not None and target.as_dict() == meter.as_dict():
            have.add(meter.slug)
        else:
            drop.append(meter)
    return drop, [m for m in PRESETS if m.slug not in have]


def preset(slug: str, presets: Sequence[Meter] = PRESETS) -> Meter:
    """A preset's definition by slug (KeyError names it when missing)."""
    for meter in presets:
        if meter.slug == slug:
            return meter
    raise KeyError(slug)
