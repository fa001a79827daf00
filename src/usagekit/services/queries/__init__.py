"""Answering meter queries from the rollups: the spec of a query (`spec`), its series and
totals (`series.Query`), and the exact unique-count path (`unique`)."""
