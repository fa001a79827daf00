"""Earnix Elevate usage monitoring: /exchange-auth-code and /api/umon."""

from usagekit.profiles.base import Profile
from usagekit.profiles.elevate.model import PRESETS

PROFILE = Profile(
    "elevate",
    namespace="elevate",
    presets=PRESETS,
    routes="usagekit.profiles.elevate.routes",
    compat="usagekit.profiles.elevate.compat",
)
