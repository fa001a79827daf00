"""Seed-shaped SDK classes: the vendors' client APIs, talking to usagekit over HTTP."""
