"""`usagekit.compat.geobox`, kept for existing imports: the client is in its profile."""

from usagekit.profiles.geobox.compat import *  # noqa: F403
from usagekit.profiles.geobox.compat import __all__ as __all__
