"""Seed-shaped clients: the vendors' usage classes, working against usagekit.

Each lives in its profile's package (usagekit.profiles.<name>.compat); the
modules here keep the documented `usagekit.compat.<name>` imports working.
"""
