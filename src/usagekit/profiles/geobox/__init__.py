"""Geobox usage: users, API keys and usage reports under /api/v1."""

from usagekit.profiles.base import Profile
from usagekit.profiles.geobox.model import PRESETS
from usagekit.profiles.geobox.samples import SAMPLES

PROFILE = Profile(
    "geobox",
    namespace="geobox",
    presets=PRESETS,
    routes="usagekit.profiles.geobox.routes",
    writes="usagekit.profiles.geobox.service",
    compat="usagekit.profiles.geobox.compat",
    samples=SAMPLES,
)
