"""`usagekit.compat.launchdarkly`, kept for existing imports: the client is in its profile."""

from usagekit.profiles.launchdarkly.compat import *  # noqa: F403
from usagekit.profiles.launchdarkly.compat import __all__ as __all__
