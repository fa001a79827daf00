"""LaunchDarkly account usage (beta): launchdarkly-api's 23 endpoints under /api/v2/usage."""

from usagekit.profiles.base import Profile
from usagekit.profiles.launchdarkly.model import PRESETS
from usagekit.profiles.launchdarkly.samples import SAMPLES

PROFILE = Profile(
    "launchdarkly",
    namespace="ld",
    presets=PRESETS,
    routes="usagekit.profiles.launchdarkly.routes",
    compat="usagekit.profiles.launchdarkly.compat",
    samples=SAMPLES,
)
