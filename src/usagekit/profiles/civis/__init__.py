"""Civis usage: civis-python's `client.usage` API under /civis."""

from usagekit.profiles.base import Profile
from usagekit.profiles.civis.model import PRESETS
from usagekit.profiles.civis.samples import SAMPLES

PROFILE = Profile(
    "civis",
    namespace="civis",
    presets=PRESETS,
    routes="usagekit.profiles.civis.routes",
    compat="usagekit.profiles.civis.compat",
    samples=SAMPLES,
)
