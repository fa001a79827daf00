"""Seed-shaped SDK classes: vendors' client APIs over usagekit's profiles (HTTP only)."""
