"""Everything idealdiff keeps on disk: SQLite in WAL mode."""
