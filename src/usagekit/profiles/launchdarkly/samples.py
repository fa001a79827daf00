"""Sample LaunchDarkly usage for `usagekit demo`: ld.* events of every kind."""

from __future__ import annotations

import random

from usagekit.profiles.base import Record, Samples, zipf


def make(rng: random.Random, day: int, i: int) -> tuple[str, str, Record]:
    """ld.* events as the LaunchDarkly profile's conventions describe them."""
    project = rng.choice(["web", "web", "mobile"])
    place = {"projectKey": project, "environmentKey": rng.choice(["production", "production",
                                                                  "staging"])}  # fmt: skip
    sdk, sdk_type, category = rng.choice(
        [("react", "client", "browser"), ("ios", "client", "mobile"), ("go", "server", "backend")]
    )
    version = rng.choice(["3.1.0", "3.2.1"])
    roll = rng.random()
    if roll < 0.4:
        kind = rng.choice(["user", "user", "user", "device", "organization"])
        key = f"{kind}-{zipf(rng, 400)}"
        data = {**place, "contextKind": kind, "contextKey": key, "sdkName": sdk,
                "sdkType": sdk_type, "sdkVersion": version, "sdkAppId": f"app-{project}",
                "anonymous": kind == "user" and rng.random() < 0.1, "primary": kind == "user",
                "category": category}  # fmt: skip
        return "ld.context", key, data
    user = f"user-{zipf(rng, 400)}"
    if roll < 0.75:
        flag = rng.choice(["new-checkout", "dark-mode", "search-v2", "pricing-test"])
        return "ld.evaluation", user, {**place, "flagKey": flag, "variation": rng.randint(0, 1)}
    if roll < 0.82:
        data = {"source": sdk_type, "sdk": sdk, "version": version,
                "connections": rng.randint(1, 20)}  # fmt: skip
        return "ld.stream", "relay", data
    if roll < 0.86:
        return "ld.event", user, {"kind": rng.choice(["received", "received", "published"])}
    if roll < 0.88:
        return "ld.data_export_event", user, {**place, "eventKind": rng.choice(["custom", "index"])}
    if roll < 0.91:
        event = {"eventKey": rng.choice(["checkout", "signup"]),
                 "eventKind": rng.choice(["custom", "feature"])}  # fmt: skip
        return "ld.experimentation_event", user, {**place, **event}
    if roll < 0.93:
        data = {**place, "experimentId": rng.choice(["exp-checkout", "exp-search"]), "key": user}
        return "ld.experimentation_key", user, data
    if roll < 0.97:
        kind = rng.choice(["errors", "logs", "logs", "metrics", "sessions", "traces"])
        return "ld.observability", "otel", {"projectKey": project, "kind": kind,
                                            "count": rng.randint(1, 500)}  # fmt: skip
    if roll < 0.99:
        data = {**place, "connectionType": rng.choice(["relay", "direct"]),
                "relayVersion": "8.10.0", "sdkName": "go", "sdkVersion": version,
                "sdkType": "server", "sdkAppId": f"app-{project}",
                "minutes": round(rng.uniform(1, 60), 2)}  # fmt: skip
        return "ld.service_connection", "relay", data
    return "ld.vega_ai", user, {"projectKey": project, "count": rng.randint(1, 5)}


# Its meters are the ld.* presets.
SAMPLES = Samples("launchdarkly", 700, make, demo_tenants=("initech-ai",))
