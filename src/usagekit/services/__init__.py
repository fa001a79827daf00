"""Use cases over the store: no HTTP objects and no SQL text here."""
