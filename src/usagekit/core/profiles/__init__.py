"""Pure parts of the seed profiles: preset meters and wire <-> event translation."""
