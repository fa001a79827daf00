"""`usagekit.compat.civis`, kept for existing imports: the client is in its profile."""

from usagekit.profiles.civis.compat import *  # noqa: F403
from usagekit.profiles.civis.compat import __all__ as __all__
