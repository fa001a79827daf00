"""Pure domain logic: events, meters, numbers, time windows. No I/O here."""
