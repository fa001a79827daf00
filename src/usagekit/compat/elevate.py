"""`usagekit.compat.elevate`, kept for existing imports: the client is in its profile."""

from usagekit.profiles.elevate.compat import *  # noqa: F403
from usagekit.profiles.elevate.compat import __all__ as __all__
