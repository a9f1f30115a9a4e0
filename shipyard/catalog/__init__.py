"""The catalog: assets (tables, feature views, features, models...) with owner, tags, source and lineage."""
