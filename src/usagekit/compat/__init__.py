"""Seed-shaped clients: the vendors' usage classes, working against usagekit."""
