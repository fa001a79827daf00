"""AMIE (ACCESS/XSEDE) usage: amieclient's API under /amie, and the tenant's registry."""

from usagekit.profiles.amie.model import CHANNEL, INVALID_CHANNEL, PRESETS
from usagekit.profiles.base import Profile

PROFILE = Profile(
    "amie",
    namespace="amie",
    presets=PRESETS,
    routes="usagekit.profiles.amie.routes",
    writes="usagekit.profiles.amie.service",
    compat="usagekit.profiles.amie.compat",
    failure_channels=(CHANNEL, INVALID_CHANNEL),
)
