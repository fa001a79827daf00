"""`usagekit.compat.amie`, kept for existing imports: the client is in its profile."""

from usagekit.profiles.amie.compat import *  # noqa: F403
from usagekit.profiles.amie.compat import __all__ as __all__
