"""Soak run: the real worker at a fixed ingest rate for a long time (see `benches.soak.run`)."""
