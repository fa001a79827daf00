"""AMIE usage (ACCESS/XSEDE): Compute, Storage and Adjustment records as events."""

from __future__ import annotations

from usagekit.core.meters import Aggregation, Meter

USAGE_TYPES = ("Compute", "Storage", "Adjustment")
_DIMS = {"project": "LocalProjectID", "resource": "Resource"}

PRESETS: tuple[Meter, ...] = tuple(
    Meter(
        f"amie.{kind.lower()}_charge",
        f"amie.{kind.lower()}",
        Aggregation.SUM,
        "SignedCharge",
        _DIMS,
        unit="SU",
        description=f"AMIE {kind} charges (allocation units), per project and resource",
    )
    for kind in USAGE_TYPES
)
