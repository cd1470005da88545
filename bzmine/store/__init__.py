"""The DuckDB store: migrations (tables), views, raw upserts."""
