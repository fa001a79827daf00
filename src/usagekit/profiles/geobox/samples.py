"""Sample Geobox traffic for `usagekit demo`: API requests per key, and processing time."""

from __future__ import annotations

import random

from usagekit.profiles.base import Record, Samples, meter_record, zipf


def make(rng: random.Random, day: int, i: int) -> tuple[str, str, Record]:
    user = str(zipf(rng, 40))
    if rng.random() < 0.9:
        data = {
            "apikey": f"key-{user}-{rng.randint(1, 2)}",
            "bytes": int(rng.lognormvariate(9, 1.5)),
            "endpoint": rng.choice(["geocode", "tiles", "route", "features"]),
        }
        return "api_request", user, data
    return "process", user, {"seconds": round(rng.lognormvariate(2, 1), 3)}


SAMPLES = Samples(
    "geobox",
    500,
    make,
    (
        meter_record(
            "api_calls", "api_request", "count", None, "calls", apikey="apikey", endpoint="endpoint"
        ),
        meter_record("api_traffic", "api_request", "sum", "bytes", "bytes", apikey="apikey"),
        meter_record("process_seconds", "process", "sum", "seconds", "s"),
    ),
    demo_tenants=("globex-maps",),
)
